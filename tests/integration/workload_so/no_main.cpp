// A shared object that does not export gmp_main: gmprun must refuse it.
extern "C" int not_gmp_main(int, char**) { return 0; }

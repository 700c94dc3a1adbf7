// A shared object exporting gmp_main as a variable, not a function: calling
// it would jump into data. gmprun must say so instead of crashing.
extern "C" {
int gmp_main = 42;
}

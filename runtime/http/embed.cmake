# Writes the live page (IN) into a C++ source (OUT) as one string constant.
file(READ ${IN} page)
string(FIND "${page}" ")GMPPAGE\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string terminator )GMPPAGE\"")
endif()
file(WRITE ${OUT} "// Generated from http/page.html by http/embed.cmake; do not edit.\nnamespace gmp::metrics {\nextern const char kLivePage[] = R\"GMPPAGE(${page})GMPPAGE\";\n}\n")

// The entry point of every test executable; the cases live in the *_test.cpp files of each folder.
#define BOOST_TEST_MODULE coworker
#include <boost/test/unit_test.hpp>

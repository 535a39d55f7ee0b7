/* keeps the support library non-empty */
typedef int gf_test_support_empty_unit;

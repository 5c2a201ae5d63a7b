// Conditions: operators, precedence, literals, truthiness, mixed types, injection, syntax errors.
#include <map>

#include <boost/test/unit_test.hpp>

#include "expr/condition.hpp"

using namespace coworker;
using namespace coworker::expr;

namespace {

struct value_scope : tmpl::scope {
  std::map<std::string, json> values;
  const json* value(std::string_view root) const override {
    auto it = values.find(std::string(root));
    return it == values.end() ? nullptr : &it->second;
  }
  const run_record* record(std::string_view) const override { return nullptr; }
};

value_scope scope_with(json input) {
  value_scope s;
  s.values["input"] = std::move(input);
  return s;
}

bool eval(const std::string& text, const json& input = json::object()) {
  auto c = condition::compile(text, "/children/0/if");
  BOOST_REQUIRE_MESSAGE(c.has_value(), text << ": " << (c ? "" : c.error().message));
  auto s = scope_with(input);
  auto r = c->evaluate(s);
  BOOST_REQUIRE_MESSAGE(r.has_value(), text << ": " << (r ? "" : r.error().message));
  return *r;
}

error eval_error(const std::string& text, const json& input = json::object()) {
  auto c = condition::compile(text, "/children/0/if");
  BOOST_REQUIRE(c.has_value());
  auto s = scope_with(input);
  auto r = c->evaluate(s);
  BOOST_REQUIRE(!r.has_value());
  return r.error();
}

error syntax_error(const std::string& text) {
  auto c = condition::compile(text, "/children/2/if");
  BOOST_REQUIRE_MESSAGE(!c.has_value(), "accepted: " << text);
  return c.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conditions)

BOOST_AUTO_TEST_CASE(comparison_operators_on_numbers) {
  json in{{"n", 7}};
  BOOST_TEST(eval("{{input.n}} > 5", in));
  BOOST_TEST(!eval("{{input.n}} < 5", in));
  BOOST_TEST(eval("{{input.n}} >= 7", in));
  BOOST_TEST(eval("{{input.n}} <= 7", in));
  BOOST_TEST(eval("{{input.n}} == 7", in));
  BOOST_TEST(eval("{{input.n}} == 7.0", in));  // numbers compare by value
  BOOST_TEST(eval("{{input.n}} != 8", in));
  BOOST_TEST(eval("-1 < 0"));
  BOOST_TEST(eval("1e3 == 1000"));
}

BOOST_AUTO_TEST_CASE(strings_compare_with_either_quote) {
  json in{{"s", "inbox"}};
  BOOST_TEST(eval("{{input.s}} == 'inbox'", in));
  BOOST_TEST(eval("{{input.s}} == \"inbox\"", in));
  BOOST_TEST(eval("'a' < 'b'"));
  BOOST_TEST(eval("'it\\'s' == \"it's\""));
}

BOOST_AUTO_TEST_CASE(logic_precedence_and_parentheses) {
  BOOST_TEST(eval("true || false && false"));    // && binds tighter
  BOOST_TEST(!eval("(true || false) && false"));
  BOOST_TEST(eval("!false && true"));
  BOOST_TEST(!eval("!(1 == 1)"));
  BOOST_TEST(eval("!!true"));
  BOOST_TEST(eval("1 < 2 && 2 < 3"));
}

BOOST_AUTO_TEST_CASE(short_circuit_skips_missing_paths) {
  BOOST_TEST(!eval("false && {{input.missing}}"));
  BOOST_TEST(eval("true || {{input.missing}}"));
}

BOOST_AUTO_TEST_CASE(falsy_values_are_false_null_zero_and_empty_string) {
  json in{{"f", false}, {"z", 0}, {"e", ""}, {"n", nullptr}, {"arr", json::array()}, {"obj", json::object()},
          {"s", "x"}, {"one", 1}};
  BOOST_TEST(!eval("{{input.f}}", in));
  BOOST_TEST(!eval("{{input.z}}", in));
  BOOST_TEST(!eval("{{input.e}}", in));
  BOOST_TEST(!eval("{{input.n}}", in));
  BOOST_TEST(eval("{{input.arr}}", in));
  BOOST_TEST(eval("{{input.obj}}", in));
  BOOST_TEST(eval("{{input.s}}", in));
  BOOST_TEST(eval("{{input.one}}", in));
  BOOST_TEST(!eval("null"));
  BOOST_TEST(!eval("0.0"));
  BOOST_TEST(!eval("''"));
}

BOOST_AUTO_TEST_CASE(equality_across_types_is_false_without_coercion) {
  json in{{"s", "5"}, {"n", 5}, {"b", true}, {"nul", nullptr}};
  BOOST_TEST(!eval("{{input.s}} == {{input.n}}", in));
  BOOST_TEST(eval("{{input.s}} != {{input.n}}", in));
  BOOST_TEST(!eval("{{input.b}} == 1", in));
  BOOST_TEST(eval("{{input.nul}} == null", in));
}

BOOST_AUTO_TEST_CASE(ordering_across_types_is_a_condition_error) {
  auto e = eval_error("{{input.s}} > 3", json{{"s", "10"}});
  BOOST_TEST(e.code == "condition_error");
  BOOST_TEST(e.message.find("string") != std::string::npos);
  BOOST_TEST(e.message.find("number") != std::string::npos);
  BOOST_TEST(eval_error("null < 1").code == "condition_error");
}

BOOST_AUTO_TEST_CASE(template_values_are_operands_never_syntax) {
  // A value that looks like code stays a string.
  json in{{"evil", "\" || true || \""}, {"e2", ") || (1 == 1"}};
  BOOST_TEST(!eval("{{input.evil}} == 'safe'", in));
  BOOST_TEST(!eval("{{input.e2}} == 'x'", in));
  BOOST_TEST(eval("{{input.evil}} == '\" || true || \"'", in));
}

BOOST_AUTO_TEST_CASE(missing_path_is_a_template_error) {
  auto e = eval_error("{{input.nope}} > 1");
  BOOST_TEST(e.code == "template_error");
}

BOOST_AUTO_TEST_CASE(references_carry_the_if_pointer) {
  auto c = condition::compile("{{a.output.n}} > {{b.status}}", "/children/4/if");
  BOOST_REQUIRE(c.has_value());
  BOOST_REQUIRE_EQUAL(c->references().size(), 2u);
  BOOST_TEST(c->references()[0].p.root == "a");
  BOOST_TEST(c->references()[1].pointer == "/children/4/if");
}

BOOST_AUTO_TEST_CASE(syntax_errors_name_the_pointer) {
  for (const char* bad : {"", "{{x}} >", "{{x}} = 5", "(1 == 1", "1 == 1)", "'open", "&& true", "{{x", "{{}} == 1",
                          "1 2", "tru", "== 3"}) {
    auto e = syntax_error(bad);
    BOOST_TEST((e.code == "condition_syntax" || e.code == "template_syntax"), bad << " gave " << e.code);
    BOOST_TEST(e.path == "/children/2/if");
  }
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_not_a_crash) {
  std::string deep(10000, '(');
  deep += "1";
  deep += std::string(10000, ')');
  auto e = syntax_error(deep);
  BOOST_TEST(e.message.find("too deeply nested") != std::string::npos);
  std::string nots(10000, '!');
  BOOST_TEST(syntax_error(nots + "true").code == "condition_syntax");
}

BOOST_AUTO_TEST_CASE(constant_conditions) {
  value_scope s;
  BOOST_TEST(*condition::constant(true).evaluate(s));
  BOOST_TEST(!*condition::constant(false).evaluate(s));
}

BOOST_AUTO_TEST_SUITE_END()

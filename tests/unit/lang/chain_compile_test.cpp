// compile_chain: every validation rule of docs/chain-language.md with a passing and a failing case,
// and the model.
#include <boost/test/unit_test.hpp>

#include "chain/compile.hpp"
#include "lang_test_util.hpp"

using namespace coworker;
using namespace coworker::test;

namespace {

chain::step_ptr root_of(const std::string& text, limits lim = {}) {
  auto r = compile_text(text, lim);
  BOOST_TEST_REQUIRE(r.ok(), describe(r));
  return r.doc->root;
}

void expect_error(const std::string& text, const std::string& code, const std::string& path, limits lim = {}) {
  auto e = only_error(text, lim);
  BOOST_TEST(e.code == code, text << " -> " << e.code << " " << e.path << ": " << e.message);
  BOOST_TEST(e.path == path, text << " -> " << e.code << " " << e.path << ": " << e.message);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const std::string sel = R"({"id":"a","operation":"select","doctype":"Email"})";

}  // namespace

BOOST_AUTO_TEST_SUITE(chain_compile)

// ---- the document and the four forms

BOOST_AUTO_TEST_CASE(chain_document_builds_the_model) {
  auto root = root_of(chain_of(sel + R"(,{"operation":"summarize","input":"{{a.output}}"})"));
  BOOST_TEST((root->kind == chain::step_kind::chain));
  BOOST_TEST(root->operation == "run");
  BOOST_TEST(root->pointer == "");
  BOOST_TEST(root->index == -1);
  BOOST_REQUIRE(root->children.size() == 2u);
  BOOST_TEST(root->children[0]->id == "a");
  BOOST_TEST(root->children[0]->doctype == "Email");
  BOOST_TEST(!root->children[0]->has_input);
  BOOST_TEST(root->children[1]->pointer == "/children/1");
  BOOST_TEST(root->children[1]->index == 1);
  BOOST_TEST(root->children[1]->has_input);
  BOOST_TEST(!root->children[1]->input.constant());
}

BOOST_AUTO_TEST_CASE(root_that_is_not_a_chain_is_invalid_chain) {
  expect_error(R"({"operation":"select"})", codes::invalid_chain, "");
  expect_error(R"([1])", codes::invalid_chain, "");
  expect_error(R"("run")", codes::invalid_chain, "");
  expect_error(R"({"parallel":["a"],"operations":[{"id":"a","operation":"log"}]})", codes::invalid_chain, "");
  expect_error(R"({"children":[{"operation":"log"}]})", codes::invalid_chain, "");
}

BOOST_AUTO_TEST_CASE(nested_chain_parallel_and_for_each_have_their_kinds) {
  auto root = root_of(chain_of(R"({"id":"c","operation":"run","children":[{"operation":"log"}]},
      {"id":"g","parallel":["x","y"],"operations":[{"id":"x","operation":"log"},{"id":"y","operation":"log"}],"options":{"failFast":false}},
      {"id":"e","forEach":[1,2],"as":"n","do":{"operation":"log","input":"{{n}}"},"options":{"concurrency":3}})"));
  const auto& c = *root->children[0];
  const auto& g = *root->children[1];
  const auto& e = *root->children[2];
  BOOST_TEST((c.kind == chain::step_kind::chain));
  BOOST_TEST(c.operation == "run");
  BOOST_TEST(c.children[0]->pointer == "/children/0/children/0");
  BOOST_TEST((g.kind == chain::step_kind::parallel));
  BOOST_TEST(g.operation == "parallel");
  BOOST_TEST(!g.options.fail_fast);
  BOOST_TEST(g.children[1]->pointer == "/children/1/operations/1");
  BOOST_TEST(g.children[1]->index == 1);
  BOOST_TEST((e.kind == chain::step_kind::for_each));
  BOOST_TEST(e.operation == "forEach");
  BOOST_TEST(e.as == "n");
  BOOST_TEST(e.options.concurrency == 3u);
  BOOST_REQUIRE(e.body);
  BOOST_TEST(e.body->pointer == "/children/2/do");
  BOOST_TEST(e.for_each.source() == json::array({1, 2}));
}

BOOST_AUTO_TEST_CASE(input_children_form_means_children) {
  auto root = root_of(R"({"operation":"run","input":{"children":[{"id":"a","operation":"log"}]}})");
  BOOST_REQUIRE(root->children.size() == 1u);
  BOOST_TEST(root->children[0]->pointer == "/input/children/0");
  BOOST_TEST(!root->has_input);  // nothing but children: the chain receives the pipe
  auto with = root_of(R"({"operation":"run","input":{"folder":"inbox","children":[{"operation":"log","input":"{{input.folder}}"}]}})");
  BOOST_TEST(with->has_input);
  BOOST_TEST(with->input.source() == json({{"folder", "inbox"}}));
}

BOOST_AUTO_TEST_CASE(direct_children_leave_input_children_as_data) {
  auto root = root_of(chain_of(R"({"operation":"log"})").insert(1, R"("input":{"children":"data"},)"));
  BOOST_TEST(root->children.size() == 1u);
  BOOST_TEST(root->has_input);
  BOOST_TEST(root->input.source()["children"] == "data");
}

BOOST_AUTO_TEST_CASE(input_children_that_is_not_an_array_is_invalid_chain) {
  expect_error(R"({"operation":"run","input":{"children":{"a":1}}})", codes::invalid_chain, "/input/children");
  expect_error(R"({"operation":"run","input":{"x":1}})", codes::invalid_chain, "");
}

BOOST_AUTO_TEST_CASE(empty_children_is_invalid_chain) {
  expect_error(chain_of(""), codes::invalid_chain, "/children");
  expect_error(chain_of(R"({"operation":"run","children":[]})"), codes::invalid_chain, "/children/0/children");
}

BOOST_AUTO_TEST_CASE(null_input_is_an_explicit_input) {
  auto root = root_of(chain_of(R"({"operation":"log","input":null})"));
  BOOST_TEST(root->children[0]->has_input);
  BOOST_TEST(root->children[0]->input.source().is_null());
}

// ---- fields and types

BOOST_AUTO_TEST_CASE(unknown_field_reports_pointer_and_hint) {
  auto e = only_error(chain_of(sel + R"(,{"id":"s","operation":"send","onerror":{"operation":"log"}})"));
  BOOST_TEST(e.code == codes::unknown_field);
  BOOST_TEST(e.path == "/children/1/onerror");
  BOOST_TEST(contains(e.message, "did you mean 'onError'?"), e.message);
  BOOST_TEST(contains(only_error(chain_of(R"({"operation":"log","inptu":1})")).message, "'input'"));
  BOOST_TEST(contains(only_error(chain_of(R"({"operation":"log","OPTIONS":{}})")).message, "'options'"));
  auto far = only_error(chain_of(R"({"operation":"log","priority":1})"));
  BOOST_TEST(far.code == codes::unknown_field);
  BOOST_TEST(!contains(far.message, "did you mean"), far.message);
}

BOOST_AUTO_TEST_CASE(field_of_another_form_is_invalid_chain) {
  expect_error(chain_of(R"({"operation":"run","children":[{"operation":"log"}],"doctype":"X"})"), codes::invalid_chain,
               "/children/0/doctype");
  expect_error(chain_of(R"({"forEach":[1],"as":"x","do":{"operation":"log"},"role":"user"})"), codes::invalid_chain,
               "/children/0/role");
  expect_valid(chain_of(R"({"operation":"message","role":"user","input":{"text":"hi"}})"));
}

BOOST_AUTO_TEST_CASE(wrong_types_report_the_field) {
  expect_error(chain_of(R"({"operation":5})"), codes::invalid_chain, "/children/0/operation");
  expect_error(chain_of(R"({"operation":""})"), codes::invalid_chain, "/children/0/operation");
  expect_error(chain_of(R"({"operation":"select","doctype":1})"), codes::invalid_chain, "/children/0/doctype");
  expect_error(chain_of(R"({"operation":"log","if":[true]})"), codes::invalid_chain, "/children/0/if");
  expect_error(chain_of(R"({"operation":"log","onError":true})"), codes::invalid_chain, "/children/0/onError");
  expect_error(chain_of(R"({"operation":"log","options":"fast"})"), codes::invalid_chain, "/children/0/options");
  expect_error(chain_of(R"(17)"), codes::invalid_chain, "/children/0");
  expect_error(R"({"operation":"run","children":"a"})", codes::invalid_chain, "/children");
}

BOOST_AUTO_TEST_CASE(missing_operation_reports_the_step) {
  expect_error(chain_of(sel + R"(,{"id":"b"})"), codes::invalid_chain, "/children/1");
}

BOOST_AUTO_TEST_CASE(role_must_be_user_assistant_or_system) {
  for (auto role : {"user", "assistant", "system"})
    expect_valid(chain_of(std::string(R"({"operation":"message","role":")") + role + R"("})"));
  expect_error(chain_of(R"({"operation":"message","role":"User"})"), codes::invalid_chain, "/children/0/role");
}

// ---- ids

BOOST_AUTO_TEST_CASE(ids_with_letters_digits_dash_underscore_are_valid) {
  expect_valid(chain_of(R"({"id":"_a-1_B","operation":"log"},{"id":"Z","operation":"log"})"));
}

BOOST_AUTO_TEST_CASE(bad_id_is_invalid_chain) {
  for (auto id : {R"("1a")", R"("a b")", R"("")", R"("a.b")", R"("é")", R"(3)", R"(null)"})
    expect_error(chain_of(std::string(R"({"operation":"log","id":)") + id + "}"), codes::invalid_chain,
                 "/children/0/id");
  for (auto id : {"prev", "input", "error"})
    expect_error(chain_of(std::string(R"({"operation":"log","id":")") + id + "\"}"), codes::invalid_chain,
                 "/children/0/id");
}

BOOST_AUTO_TEST_CASE(duplicate_id_reports_the_second) {
  auto e = only_error(chain_of(sel + R"(,{"id":"g","parallel":["a2"],"operations":[{"id":"a2","operation":"log"}]},
      {"id":"x","operation":"run","children":[{"id":"a","operation":"log"}]})"));
  BOOST_TEST(e.code == codes::duplicate_id);
  BOOST_TEST(e.path == "/children/2/children/0/id");
  BOOST_TEST(contains(e.message, "/children/0"), e.message);
  expect_error(R"({"operation":"run","id":"t","children":[{"id":"t","operation":"log"}]})", codes::duplicate_id,
               "/children/0/id");
  expect_error(chain_of(R"({"id":"s","operation":"send","onError":{"id":"s","operation":"log"}})"), codes::duplicate_id,
               "/children/0/onError/id");
}

// ---- parallel groups

BOOST_AUTO_TEST_CASE(parallel_and_operations_with_same_ids_are_valid) {
  expect_valid(chain_of(R"({"parallel":["b","a"],"operations":[{"id":"a","operation":"log"},{"id":"b","operation":"log"}]})"));
}

BOOST_AUTO_TEST_CASE(parallel_mismatch_names_missing_and_extra_ids) {
  auto r = compile_text(chain_of(R"({"parallel":["t1","t3"],"operations":[{"id":"t1","operation":"log"},{"id":"t2","operation":"log"}]})"));
  BOOST_REQUIRE(r.errors.size() == 2u);
  BOOST_TEST(r.errors[0].path == "/children/0/operations/1/id");
  BOOST_TEST(contains(r.errors[0].message, "'t2'"));
  BOOST_TEST(r.errors[1].path == "/children/0/parallel");
  BOOST_TEST(contains(r.errors[1].message, "'t3'"));
  expect_error(chain_of(R"({"parallel":[],"operations":[]})"), codes::invalid_chain, "/children/0/operations");
}

BOOST_AUTO_TEST_CASE(group_without_operations_or_member_id_is_invalid_chain) {
  expect_error(chain_of(R"({"parallel":["a"]})"), codes::invalid_chain, "/children/0");
  expect_error(chain_of(R"({"operations":[{"id":"a","operation":"log"}]})"), codes::invalid_chain, "/children/0");
  expect_error(chain_of(R"({"parallel":["a"],"operations":[{"id":"a","operation":"log"},{"operation":"log"}]})"),
               codes::invalid_chain, "/children/0/operations/1");
  expect_error(chain_of(R"({"parallel":["a",1],"operations":[{"id":"a","operation":"log"}]})"), codes::invalid_chain,
               "/children/0/parallel/1");
}

// ---- forEach

BOOST_AUTO_TEST_CASE(for_each_needs_for_each_as_and_do) {
  expect_valid(chain_of(R"({"forEach":"{{input}}","as":"x","do":{"operation":"log"}})"));
  expect_error(chain_of(R"({"forEach":"{{input}}","as":"x"})"), codes::invalid_chain, "/children/0");
  expect_error(chain_of(R"({"as":"x","do":{"operation":"log"}})"), codes::invalid_chain, "/children/0");
  expect_error(chain_of(R"({"forEach":"{{input}}","as":"x y","do":{"operation":"log"}})"), codes::invalid_chain,
               "/children/0/as");
  expect_error(chain_of(R"({"forEach":"{{input}}","as":"prev","do":{"operation":"log"}})"), codes::invalid_chain,
               "/children/0/as");
  expect_error(chain_of(R"({"forEach":{"a":1},"as":"x","do":{"operation":"log"}})"), codes::invalid_chain,
               "/children/0/forEach");
  expect_error(chain_of(R"({"forEach":"not a template","as":"x","do":{"operation":"log"}})"), codes::invalid_chain,
               "/children/0/forEach");
  expect_error(chain_of(R"({"forEach":[1],"as":"x","do":"log"})"), codes::invalid_chain, "/children/0/do");
}

// ---- options

BOOST_AUTO_TEST_CASE(options_fill_the_model) {
  auto root = root_of(chain_of(R"({"operation":"send","options":{"keepAlive":true,"timeoutMs":1500,
      "retry":{"max":3,"delayMs":50,"backoff":1.5,"maxDelayMs":900,"jitter":true,"retryOn":["timeout","busy"]}}})"));
  const auto& o = root->children[0]->options;
  BOOST_TEST(o.keep_alive.value_or(false));
  BOOST_TEST(o.timeout_ms.value_or(0) == 1500);
  BOOST_REQUIRE(o.retry.has_value());
  BOOST_TEST(o.retry->max == 3);
  BOOST_TEST(o.retry->delay_ms == 50.0);
  BOOST_TEST(o.retry->backoff == 1.5);
  BOOST_TEST(o.retry->max_delay_ms == 900.0);
  BOOST_TEST(o.retry->jitter);
  BOOST_TEST(o.retry->retry_on == (std::vector<std::string>{"timeout", "busy"}));
  auto defaults = root_of(chain_of(R"({"operation":"send","options":{"retry":{"max":1}}})"))->children[0]->options;
  BOOST_TEST(defaults.retry->delay_ms == 200.0);
  BOOST_TEST(!defaults.keep_alive.has_value());
  BOOST_TEST(defaults.fail_fast);
}

BOOST_AUTO_TEST_CASE(bad_options_report_the_option) {
  auto opt = [](const std::string& o) { return chain_of(R"({"operation":"send","options":)" + o + "}"); };
  expect_error(opt(R"({"timeoutMs":0})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  expect_error(opt(R"({"timeoutMs":-5})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  expect_error(opt(R"({"timeoutMs":"1s"})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  expect_error(opt(R"({"timeoutMs":1e30})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  expect_error(opt(R"({"timeoutMs":99999999999999999999})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  // Over 365 days the timer's nanoseconds overflow int64 (tests/fixtures/fuzz/request/timeout-overflow).
  expect_error(opt(R"({"timeoutMs":31536000001})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  expect_error(opt(R"({"timeoutMs":9223372036854775807})"), codes::invalid_chain, "/children/0/options/timeoutMs");
  expect_valid(opt(R"({"timeoutMs":31536000000})"));
  expect_error(opt(R"({"keepAlive":1})"), codes::invalid_chain, "/children/0/options/keepAlive");
  expect_error(opt(R"({"retry":{"max":-1}})"), codes::invalid_chain, "/children/0/options/retry/max");
  expect_error(opt(R"({"retry":{"max":2.5}})"), codes::invalid_chain, "/children/0/options/retry/max");
  expect_error(opt(R"({"retry":{"max":1,"maxDelayMs":-1}})"), codes::invalid_chain, "/children/0/options/retry/maxDelayMs");
  expect_error(opt(R"({"retry":{"max":1,"jitter":"yes"}})"), codes::invalid_chain, "/children/0/options/retry/jitter");
  expect_error(opt(R"({"retry":{"max":1,"retryOn":"timeout"}})"), codes::invalid_chain, "/children/0/options/retry/retryOn");
  expect_error(opt(R"({"retry":{"max":1,"retryOn":[""]}})"), codes::invalid_chain, "/children/0/options/retry/retryOn/0");
  auto hint = only_error(opt(R"({"retry":{"max":1,"dealyMs":5}})"));
  BOOST_TEST(hint.code == codes::unknown_field);
  BOOST_TEST(contains(hint.message, "'delayMs'"), hint.message);
  auto top = only_error(opt(R"({"timeout":5})"));
  BOOST_TEST(top.code == codes::unknown_field);
  BOOST_TEST(top.path == "/children/0/options/timeout");
  BOOST_TEST(contains(top.message, "'timeoutMs'"), top.message);
}

BOOST_AUTO_TEST_CASE(fail_fast_and_concurrency_belong_to_their_forms) {
  expect_error(chain_of(R"({"operation":"log","options":{"failFast":true}})"), codes::invalid_chain,
               "/children/0/options/failFast");
  expect_error(chain_of(R"({"operation":"log","options":{"concurrency":2}})"), codes::invalid_chain,
               "/children/0/options/concurrency");
  expect_error(chain_of(R"({"forEach":[1],"as":"x","do":{"operation":"log"},"options":{"concurrency":-2}})"),
               codes::invalid_chain, "/children/0/options/concurrency");
  expect_valid(chain_of(R"({"forEach":[1],"as":"x","do":{"operation":"log"},"options":{"concurrency":2,"timeoutMs":10}})"));
}

// ---- operations, templates, conditions

BOOST_AUTO_TEST_CASE(unknown_operation_reports_the_operation_field) {
  auto e = only_error(chain_of(R"({"operation":"sned"})"));
  BOOST_TEST(e.code == codes::unknown_operation);
  BOOST_TEST(e.path == "/children/0/operation");
  BOOST_TEST(contains(e.message, "'sned'"));
}

BOOST_AUTO_TEST_CASE(run_is_known_and_unset_known_operation_accepts_every_name) {
  chain::compile_options none_known;
  none_known.known_operation = [](std::string_view) { return false; };
  auto r = chain::compile_chain_text(chain_of(R"({"operation":"run","children":[{"operation":"custom"}]})"), none_known);
  BOOST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].path == "/children/0/children/0/operation");
  chain::compile_options any;
  BOOST_TEST(chain::compile_chain_text(chain_of(R"({"operation":"anything-goes"})"), any).ok());
}

BOOST_AUTO_TEST_CASE(template_syntax_error_names_the_string) {
  expect_valid(chain_of(sel + R"(,{"operation":"log","input":{"data":{"t":"x {{a.output.data[0]}} y"}}})"));
  auto e = only_error(chain_of(sel + R"(,{"operation":"log","input":{"data":{"t":"{{a..output}}"}}})"));
  BOOST_TEST(e.code == codes::template_syntax);
  BOOST_TEST(e.path == "/children/1/input/data/t");
}

BOOST_AUTO_TEST_CASE(condition_syntax_error_names_if) {
  expect_valid(chain_of(sel + R"(,{"operation":"log","if":"{{a.output.data.length}} > 5"})"));
  auto e = only_error(chain_of(sel + R"(,{"operation":"log","if":"{{a.output.data.length}} >"})"));
  BOOST_TEST(e.code == codes::condition_syntax);
  BOOST_TEST(e.path == "/children/1/if");
}

BOOST_AUTO_TEST_CASE(boolean_if_is_a_constant_condition) {
  auto root = root_of(chain_of(R"({"operation":"log","if":false},{"operation":"log","if":true})"));
  BOOST_REQUIRE(root->children[0]->when.has_value());
  BOOST_TEST(root->children[0]->when->references().empty());
  BOOST_TEST(root->children[1]->when.has_value());
  BOOST_TEST(!root_of(chain_of(R"({"operation":"log"})"))->children[0]->when.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// The rule of what a record carries outside the engine (src/core/value_forms.hpp): small values
// whole, a large one by reference, and a record's two values never more than the budget together.
#include <boost/test/unit_test.hpp>

#include <new>

#include "core/blob.hpp"
#include "core/frame.hpp"
#include "core/value_forms.hpp"

using namespace coworker;

namespace {
constexpr std::size_t kib = 1024;

run_record with(value_ptr in, value_ptr out) {
  run_record r;
  r.id = "run-1";
  r.input = std::move(in);
  r.output = std::move(out);
  return r;
}
value_ptr text_of(std::size_t n, char c = 'x') { return share(json(std::string(n, c))); }
}  // namespace

BOOST_AUTO_TEST_SUITE(value_forms_rule)

BOOST_AUTO_TEST_CASE(small_values_are_carried_as_they_are) {
  value_forms forms(64 * kib);
  auto in = share(json{{"a", 1}});
  auto f = forms.of(with(in, in));
  BOOST_TEST(f.input.get() == in.get());  // the same shared value, not a copy
  BOOST_TEST(f.output.get() == in.get());
  BOOST_TEST(f.blobs.empty());
}

BOOST_AUTO_TEST_CASE(a_value_past_the_budget_is_a_reference) {
  value_forms forms(64 * kib, 1024 * kib);
  auto big = text_of(100 * kib);
  auto f = forms.of(with(nullptr, big));
  BOOST_REQUIRE(blob::is_ref(*f.output));
  BOOST_REQUIRE_EQUAL(f.blobs.size(), 1u);
  BOOST_TEST((*f.output)["$blob"] == f.blobs[0]->id);
  BOOST_TEST(f.blobs[0]->text == dump(*big));
  BOOST_TEST(forms.text(f.blobs[0]->id).value_or("") == dump(*big));
  BOOST_TEST(!value_forms(64 * kib).text(f.blobs[0]->id));  // durable mode keeps none unless asked
  // Asked again (the committer, then the publisher): the same form, computed once.
  BOOST_TEST(forms.of(with(nullptr, big)).output.get() == f.output.get());
}

BOOST_AUTO_TEST_CASE(two_values_under_the_budget_each_but_not_together_put_the_larger_aside) {
  value_forms forms(64 * kib);
  auto in = text_of(40 * kib, 'i');
  auto out = text_of(45 * kib, 'o');
  auto f = forms.of(with(in, out));
  BOOST_TEST(f.input.get() == in.get());
  BOOST_TEST(blob::is_ref(*f.output));
  BOOST_TEST(approx_size(*f.input, SIZE_MAX) + approx_size(*f.output, SIZE_MAX) <= forms.budget());
  auto record = dump(to_json(with(in, out), forms));
  BOOST_TEST(record.size() <= 64 * kib);  // an event frame stays within limits.blobBytes
}

BOOST_AUTO_TEST_CASE(the_budget_leaves_room_for_the_record_fields) {
  value_forms forms(64 * kib);
  BOOST_TEST(forms.budget() == 60 * kib);
  auto just_under = text_of(60 * kib - 2);  // with its quotes: exactly the budget
  BOOST_TEST(!blob::is_ref(*forms.of(with(just_under, nullptr)).input));
  BOOST_TEST(blob::is_ref(*forms.of(with(text_of(60 * kib), nullptr)).input));
}

BOOST_AUTO_TEST_CASE(memory_mode_keeps_blob_texts_up_to_its_budget_oldest_first) {
  value_forms forms(64 * kib, 250 * kib);
  std::vector<std::string> ids;
  for (char c : {'a', 'b', 'c'}) ids.push_back(forms.of(with(text_of(100 * kib, c), nullptr)).blobs.at(0)->id);
  BOOST_TEST(!forms.text(ids[0]));  // 300 KiB of texts: the oldest left
  BOOST_TEST(forms.text(ids[1]).has_value());
  BOOST_TEST(forms.text(ids[2]).has_value());
}

// approx_size decides the rule, in the store, the events and the replies alike: what it returns, also
// where it stops past its cap, is that of the plain walk it replaced (a stack of the values still to
// visit, the last member on top), also for values deeper than it recurses.
namespace {
std::size_t approx_size_by_stack(const json& root, std::size_t cap) {
  std::size_t total = 0;
  std::vector<const json*> todo{&root};
  while (!todo.empty() && total <= cap) {
    const json* v = todo.back();
    todo.pop_back();
    switch (v->type()) {
      case json::value_t::object:
        total += 2;
        for (auto it = v->begin(); it != v->end(); ++it) {
          total += it.key().size() + 4;
          todo.push_back(&it.value());
        }
        break;
      case json::value_t::array:
        total += 2;
        for (const auto& e : *v) {
          total += 1;
          todo.push_back(&e);
        }
        break;
      case json::value_t::string: total += v->get_ref<const std::string&>().size() + 2; break;
      default: total += 8; break;
    }
  }
  return total;
}
}  // namespace

BOOST_AUTO_TEST_CASE(approx_size_is_the_plain_walk_at_every_cap) {
  json nested = json::array({1, "two", json{{"three", 3.0}, {"four", json::array({nullptr, true})}}});
  json deep = "leaf";
  for (int i = 0; i < 300; ++i) deep = (i % 2) ? json{{"k" + std::to_string(i), deep}, {"s", "xy"}} : json::array({deep, i});
  json wide = json::object();
  for (int i = 0; i < 50; ++i) wide["field" + std::to_string(i)] = json{{"text", std::string(static_cast<std::size_t>(i), 'a')}, {"n", i}};
  for (const json& v : {json(), json(7), json("text"), json::object(), json::array(), nested, deep, wide}) {
    const auto whole = approx_size_by_stack(v, SIZE_MAX);
    BOOST_TEST(approx_size(v, SIZE_MAX) == whole);
    for (std::size_t cap = 0; cap <= whole + 1; cap += 1 + cap / 7)
      BOOST_TEST_REQUIRE(approx_size(v, cap) == approx_size_by_stack(v, cap), "cap " << cap << " of " << v.dump().substr(0, 60));
  }
}

// The committer hands a value's text to the edge that writes the value next (value_forms::hand_text):
// only once an edge wants texts, taken once, never for another value at the same address, bounded.
BOOST_AUTO_TEST_CASE(a_handed_text_is_claimed_once_and_only_for_its_value) {
  value_forms forms(64 * kib);
  auto v = share(json{{"a", 1}});
  forms.hand_text(v, dump(*v));
  BOOST_TEST(!forms.claim_text(v).has_value());  // nobody wanted texts: none kept
  forms.want_texts();
  forms.hand_text(v, dump(*v));
  auto claimed = forms.claim_text(v);
  BOOST_TEST(claimed.value_or("") == R"({"a":1})");
  BOOST_TEST(!forms.claim_text(v).has_value());

  // A value that died leaves its address to the next: two values made in the same place in turn.
  alignas(json) unsigned char place[sizeof(json)];
  auto made_at_place = [&](json j) {
    return std::shared_ptr<const json>(new (place) json(std::move(j)), [](const json* p) { p->~basic_json(); });
  };
  auto old = made_at_place(json{{"old", true}});
  forms.hand_text(old, dump(*old));
  old.reset();
  auto same_place = made_at_place(json{{"new", 1}});
  BOOST_TEST(static_cast<const void*>(same_place.get()) == static_cast<const void*>(place));
  BOOST_TEST(!forms.claim_text(same_place).has_value());

  // Texts nobody claims leave oldest first.
  std::vector<value_ptr> many;
  for (std::size_t i = 0; i <= value_forms::handed_texts; ++i) {
    many.push_back(share(json(static_cast<std::int64_t>(i))));
    forms.hand_text(many.back(), dump(*many.back()));
  }
  BOOST_TEST(!forms.claim_text(many.front()).has_value());
  BOOST_TEST(forms.claim_text(many.back()).value_or("") == std::to_string(value_forms::handed_texts));
  BOOST_TEST(forms.claim_text(many[1]).value_or("") == "1");

  // And past handed_bytes of text: four texts of a third of it keep the last three.
  const std::size_t third = value_forms::handed_bytes / 3;
  std::vector<value_ptr> large;
  for (int i = 0; i < 4; ++i) {
    large.push_back(share(json(std::string(third - 2, static_cast<char>('a' + i)))));
    forms.hand_text(large.back(), dump(*large.back()));
  }
  BOOST_TEST(!forms.claim_text(large[0]).has_value());
  for (int i = 1; i < 4; ++i) BOOST_TEST(forms.claim_text(large[static_cast<std::size_t>(i)]).value_or("").size() == third);
}

BOOST_AUTO_TEST_SUITE_END()

// Conditions: a small recursive-descent parser (depth-bounded) and an evaluator over JSON values.
#include "expr/condition.hpp"

#include <cctype>

namespace coworker::expr {

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return v.get<double>() != 0.0;
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    default: return true;  // arrays and objects, even empty ones
  }
}

struct condition::node {
  std::string op;  // empty: an operand
  json literal;
  bool is_template = false;
  tmpl::path p;
  std::shared_ptr<const node> a, b;
  /// `&&` and `||`: every operand of a run of the same operator, in order. One flat node rather
  /// than a left-deep tree, so `x && x && ...` (100,000 times) cannot overflow the stack when it is
  /// evaluated or destroyed; parentheses and `!` nest at most max_depth deep.
  std::vector<std::shared_ptr<const node>> terms;
};

namespace {

constexpr int max_depth = 64;

template <class Node>
struct parser {
  std::string_view s;
  const std::string& pointer;
  std::vector<tmpl::reference>& refs;
  std::size_t i = 0;
  int depth = 0;
  std::optional<error> err;
  using ptr = std::shared_ptr<Node>;

  void skip() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  bool eat(std::string_view t) {
    skip();
    if (s.substr(i, t.size()) != t) return false;
    i += t.size();
    return true;
  }
  ptr fail(const std::string& why) {
    if (!err)
      err = make_error(codes::condition_syntax,
                       "condition \"" + std::string(s.substr(0, 80)) + "\": " + why + " at character " + std::to_string(i + 1),
                       pointer);
    return nullptr;
  }
  ptr binary(const char* op, ptr a, ptr b) {
    if (!a || !b) return nullptr;
    auto n = std::make_shared<Node>();
    n->op = op;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }
  /// `first op x op y ...` as one node holding all the operands (`first` alone if no op follows).
  template <class Next>
  ptr logical(const char* op, Next next) {
    auto first = next();
    if (!first) return first;
    ptr n;
    while (eat(op)) {
      auto term = next();
      if (!term) return nullptr;
      if (!n) {
        n = std::make_shared<Node>();
        n->op = op;
        n->terms.push_back(std::move(first));
      }
      n->terms.push_back(std::move(term));
    }
    return n ? n : first;
  }
  ptr parse_or() {
    return logical("||", [this] { return parse_and(); });
  }
  ptr parse_and() {
    return logical("&&", [this] { return parse_cmp(); });
  }
  ptr parse_cmp() {
    auto a = parse_unary();
    if (!a) return a;
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"})
      if (eat(op)) return binary(op, a, parse_unary());
    return a;
  }
  ptr parse_unary() {
    if (++depth > max_depth) return fail("too deeply nested");
    ptr r;
    if (eat("!")) {
      auto inner = parse_unary();
      if (inner) {
        r = std::make_shared<Node>();
        r->op = "!";
        r->a = std::move(inner);
      }
    } else {
      r = parse_primary();
    }
    --depth;
    return r;
  }
  ptr parse_primary() {
    skip();
    if (i >= s.size()) return fail("expected a value");
    auto n = std::make_shared<Node>();
    if (eat("(")) {
      auto inner = parse_or();
      if (!inner) return nullptr;
      if (!eat(")")) return fail("expected ')'");
      return inner;
    }
    if (eat("{{")) {
      auto close = s.find("}}", i);
      if (close == std::string_view::npos) return fail("unclosed '{{'");
      auto p = tmpl::parse_path(s.substr(i, close - i), pointer);
      if (!p) {
        if (!err) err = p.error();
        return nullptr;
      }
      i = close + 2;
      n->is_template = true;
      n->p = *p;
      refs.push_back(tmpl::reference{std::move(*p), pointer});
      return n;
    }
    if (s[i] == '"' || s[i] == '\'') {
      char quote = s[i++];
      std::string text;
      while (i < s.size() && s[i] != quote) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
          switch (s[i]) {
            case 'n': text += '\n'; break;
            case 't': text += '\t'; break;
            default: text += s[i];
          }
          ++i;
          continue;
        }
        text += s[i++];
      }
      if (i >= s.size()) return fail("unclosed string");
      ++i;
      n->literal = std::move(text);
      return n;
    }
    auto word = [&](std::string_view w) {
      if (s.substr(i, w.size()) != w) return false;
      auto end = i + w.size();
      if (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) return false;
      i = end;
      return true;
    };
    if (word("true")) return n->literal = true, n;
    if (word("false")) return n->literal = false, n;
    if (word("null")) return n->literal = nullptr, n;
    auto start = i;
    if (s[i] == '-' || s[i] == '+') ++i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                            s[i] == 'E' || ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
      ++i;
    auto text = std::string(s.substr(start, i - start));
    if (text.empty() || text == "-" || text == "+") {
      i = start;
      return fail("expected a value");
    }
    if (text[0] == '+') text.erase(0, 1);
    auto num = json::parse(text, nullptr, false);
    if (num.is_discarded() || !num.is_number()) {
      i = start;
      return fail("bad number '" + text + "'");
    }
    n->literal = std::move(num);
    return n;
  }
};

std::string type_of(const json& v) { return v.type_name(); }

template <class Node>
expected<json> eval(const Node& n, const tmpl::scope& s) {
  if (n.op.empty()) {
    if (!n.is_template) return n.literal;
    return tmpl::lookup(n.p, s);
  }
  if (n.op == "&&" || n.op == "||") {
    // Left to right, stopping at the first operand that decides (false for &&, true for ||).
    const bool decides = n.op == "||";
    for (const auto& t : n.terms) {
      auto v = eval(*t, s);
      if (!v) return v;
      if (truthy(*v) == decides) return json(decides);
    }
    return json(!decides);
  }
  auto a = eval(*n.a, s);
  if (!a) return a;
  if (n.op == "!") return json(!truthy(*a));
  auto b = eval(*n.b, s);
  if (!b) return b;
  const bool numbers = a->is_number() && b->is_number();
  if (n.op == "==" || n.op == "!=") {
    // Structural equality without coercion; numbers compare by value (1 == 1.0).
    bool eq = numbers ? a->template get<double>() == b->template get<double>() : *a == *b;
    return json(n.op == "==" ? eq : !eq);
  }
  const bool strings = a->is_string() && b->is_string();
  if (!numbers && !strings)
    return make_error(codes::condition_error, "cannot compare " + type_of(*a) + " " + n.op + " " + type_of(*b) +
                                                  ": ordering needs two numbers or two strings");
  bool less, greater;
  if (numbers) {
    less = a->template get<double>() < b->template get<double>();
    greater = a->template get<double>() > b->template get<double>();
  } else {
    const auto& x = a->template get_ref<const std::string&>();
    const auto& y = b->template get_ref<const std::string&>();
    less = x < y;
    greater = x > y;
  }
  if (n.op == "<") return json(less);
  if (n.op == ">") return json(greater);
  if (n.op == "<=") return json(!greater);
  return json(!less);  // >=
}

}  // namespace

expected<condition> condition::compile(std::string_view text, const std::string& pointer) {
  condition c;
  c.text_ = std::string(text);
  parser<node> p{c.text_, pointer, c.refs_, 0, 0, std::nullopt};
  auto root = p.parse_or();
  if (root) {
    p.skip();
    if (p.i != c.text_.size()) p.fail("unexpected '" + std::string(1, c.text_[p.i]) + "'");
  }
  if (p.err) return *p.err;
  c.root_ = std::move(root);
  return c;
}

condition condition::constant(bool value) {
  condition c;
  c.text_ = value ? "true" : "false";
  auto n = std::make_shared<node>();
  n->literal = value;
  c.root_ = std::move(n);
  return c;
}

expected<bool> condition::evaluate(const tmpl::scope& s) const {
  if (!root_) return false;
  auto v = eval(*root_, s);
  if (!v) {
    auto e = std::move(v).error();
    if (e.code == codes::condition_error) e.message = "condition \"" + text_ + "\": " + e.message;
    return e;
  }
  return truthy(*v);
}

}  // namespace coworker::expr

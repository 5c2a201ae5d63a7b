// Templates: parsing `{{ path }}`, compiling JSON values that hold them, resolving against a scope.
#include "template/template.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

namespace coworker::tmpl {

namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe(const path& p, std::size_t upto) {
  std::string s = p.root;
  for (std::size_t i = 0; i < upto && i < p.segments.size(); ++i) {
    const auto& sg = p.segments[i];
    if (sg.k == segment::kind::index) {
      s += "[" + std::to_string(sg.index) + "]";
    } else {
      s += "." + sg.name;
    }
  }
  return s;
}

constexpr int max_depth = 256;  // values are depth-limited when parsed; this guards values built in code

}  // namespace

expected<path> parse_path(std::string_view inner, const std::string& pointer) {
  path p;
  p.text = "{{" + std::string(inner) + "}}";
  auto bad = [&](const std::string& why) {
    return make_error(codes::template_syntax, "template " + p.text + ": " + why, pointer);
  };
  std::size_t b = 0, e = inner.size();
  while (b < e && std::isspace(static_cast<unsigned char>(inner[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(inner[e - 1]))) --e;
  auto s = inner.substr(b, e - b);
  if (s.empty()) return bad("empty template");
  if (!ident_start(s[0])) return bad("a path starts with a name ([A-Za-z_])");
  std::size_t i = 0;
  while (i < s.size() && ident_char(s[i])) ++i;
  p.root = std::string(s.substr(0, i));
  while (i < s.size()) {
    if (s[i] == '.') {
      auto start = ++i;
      while (i < s.size() && ident_char(s[i])) ++i;
      if (start == i) return bad("a name must follow '.'");
      segment sg;
      sg.name = std::string(s.substr(start, i - start));
      sg.k = sg.name == "length" ? segment::kind::length : segment::kind::field;
      p.segments.push_back(std::move(sg));
    } else if (s[i] == '[') {
      auto start = ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (start == i || i >= s.size() || s[i] != ']') return bad("an index is [digits]");
      if (i - start > 9) return bad("index too large");
      segment sg;
      sg.k = segment::kind::index;
      sg.index = std::stoul(std::string(s.substr(start, i - start)));
      ++i;
      p.segments.push_back(std::move(sg));
    } else {
      return bad(std::string("unexpected '") + s[i] + "'");
    }
  }
  return p;
}

expected<json> lookup(const path& p, const scope& sc) {
  auto missing = [&](std::size_t i, const std::string& what) {
    return make_error(codes::template_error,
                      p.text + ": " + what + " does not exist in " + describe(p, i));
  };
  json scratch;  // holds a value computed on the way (a record's JSON form, a length)
  const json* v = sc.value(p.root);
  std::size_t i = 0;
  if (!v) {
    const run_record* r = sc.record(p.root);
    if (!r) return make_error(codes::template_error, p.text + ": '" + p.root + "' is not defined here");
    const auto& first = p.segments.empty() ? std::string() : p.segments[0].name;
    if (!p.segments.empty() && p.segments[0].k == segment::kind::field && (first == "output" || first == "input")) {
      // The hot path: reach the value without building the whole record.
      v = &deref(first == "output" ? r->output : r->input);
      i = 1;
    } else {
      scratch = to_json(*r);
      v = &scratch;
    }
  }
  for (; i < p.segments.size(); ++i) {
    const auto& sg = p.segments[i];
    switch (sg.k) {
      case segment::kind::index:
        if (!v->is_array()) return missing(i, "[" + std::to_string(sg.index) + "] (not an array)");
        if (sg.index >= v->size()) return missing(i, "[" + std::to_string(sg.index) + "]");
        v = &(*v)[sg.index];
        break;
      case segment::kind::length:
        if (v->is_object() && v->contains("length")) {
          v = &(*v)["length"];  // an object's own "length" field wins over its size
        } else if (v->is_string()) {
          scratch = json(v->get_ref<const std::string&>().size());
          v = &scratch;
        } else if (v->is_array() || v->is_object()) {
          scratch = json(v->size());
          v = &scratch;
        } else {
          return missing(i, "'length' (" + std::string(v->type_name()) + " has no length)");
        }
        break;
      case segment::kind::field: {
        if (!v->is_object()) return missing(i, "'" + sg.name + "' (" + std::string(v->type_name()) + " has no fields)");
        auto it = v->find(sg.name);
        if (it == v->end()) return missing(i, "'" + sg.name + "'");
        v = &*it;
        break;
      }
    }
  }
  return *v;
}

struct compiled_value::node {
  enum class kind { constant, whole, text, object, array };
  kind k = kind::constant;
  json value;                                        // constant
  path whole;                                        // whole: the string is exactly one template
  std::vector<std::variant<std::string, path>> parts;  // text: literal pieces and templates
  std::vector<std::pair<std::string, std::shared_ptr<const node>>> fields;
  std::vector<std::shared_ptr<const node>> items;
};

compiled_value compiled_value::compile(const json& v, const std::string& pointer, std::vector<error>& errors) {
  compiled_value c;
  c.source_ = v;
  struct builder {
    std::vector<reference>& refs;
    std::vector<error>& errors;

    std::shared_ptr<node> string_node(const json& v, const std::string& ptr) {
      auto n = std::make_shared<node>();
      n->value = v;
      const auto& s = v.get_ref<const std::string&>();
      std::size_t pos = 0;
      std::string literal;
      std::vector<std::variant<std::string, path>> parts;
      bool any = false;
      while (pos < s.size()) {
        auto open = s.find("{{", pos);
        if (open == std::string::npos) break;
        auto close = s.find("}}", open + 2);
        if (close == std::string::npos) {
          errors.push_back(make_error(codes::template_syntax, "unclosed '{{' in \"" + s.substr(open, 40) + "\"", ptr));
          return n;
        }
        literal += s.substr(pos, open - pos);
        auto p = parse_path(std::string_view(s).substr(open + 2, close - open - 2), ptr);
        if (!p) {
          errors.push_back(p.error());
          return n;
        }
        if (!literal.empty()) parts.emplace_back(std::move(literal));
        literal.clear();
        refs.push_back(reference{*p, ptr});
        parts.emplace_back(std::move(*p));
        any = true;
        pos = close + 2;
      }
      if (!any) return n;
      literal += s.substr(pos);
      if (!literal.empty()) parts.emplace_back(std::move(literal));
      if (parts.size() == 1) {
        n->k = node::kind::whole;
        n->whole = std::get<path>(parts[0]);
      } else {
        n->k = node::kind::text;
        n->parts = std::move(parts);
      }
      return n;
    }

    std::shared_ptr<node> build(const json& v, const std::string& ptr, int depth) {
      if (depth > max_depth) {
        errors.push_back(make_error(codes::too_deep, "value nested too deeply", ptr));
        return std::make_shared<node>();
      }
      if (v.is_string()) return string_node(v, ptr);
      auto n = std::make_shared<node>();
      n->value = v;
      if (v.is_object()) {
        n->k = node::kind::object;
        for (auto it = v.begin(); it != v.end(); ++it)
          n->fields.emplace_back(it.key(), build(it.value(), ptr + "/" + escape_pointer_token(it.key()), depth + 1));
      } else if (v.is_array()) {
        n->k = node::kind::array;
        std::size_t i = 0;
        for (const auto& e : v) n->items.push_back(build(e, ptr + "/" + std::to_string(i++), depth + 1));
      }
      return n;
    }
  };
  std::vector<error> local;
  builder b{c.refs_, local};
  auto root = b.build(v, pointer, 0);
  if (!c.refs_.empty() && local.empty()) c.root_ = std::move(root);
  errors.insert(errors.end(), local.begin(), local.end());
  return c;
}

namespace {

template <class Node>
expected<json> evaluate(const Node& n, const scope& s) {
  using kind = typename Node::kind;
  switch (n.k) {
    case kind::constant:
      return n.value;
    case kind::whole:
      return lookup(n.whole, s);
    case kind::text: {
      std::string out;
      for (const auto& part : n.parts) {
        if (const auto* lit = std::get_if<std::string>(&part)) {
          out += *lit;
          continue;
        }
        auto v = lookup(std::get<path>(part), s);
        if (!v) return v;
        // Strings go in as they are, anything else as compact JSON; never expanded again.
        out += v->is_string() ? v->template get_ref<const std::string&>() : dump(*v);
      }
      return json(std::move(out));
    }
    case kind::object: {
      json o = json::object();
      for (const auto& [key, child] : n.fields) {
        auto v = evaluate(*child, s);
        if (!v) return v;
        o[key] = std::move(*v);
      }
      return o;
    }
    case kind::array: {
      json a = json::array();
      for (const auto& child : n.items) {
        auto v = evaluate(*child, s);
        if (!v) return v;
        a.push_back(std::move(*v));
      }
      return a;
    }
  }
  return json();
}

}  // namespace

expected<json> compiled_value::resolve(const scope& s) const {
  if (!root_) return source_;
  return evaluate(*root_, s);
}

}  // namespace coworker::tmpl

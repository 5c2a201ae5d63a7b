// build_where / build_select: the query language as SQL over json_extract.
#include "store/query.hpp"

#include <set>

namespace coworker::store {

namespace {

error bad(const std::string& at, const std::string& why) { return make_error(codes::invalid_input, at + ": " + why); }

bool valid_field(const std::string& f) {
  if (f.empty() || f.front() == '.' || f.back() == '.' || f.find("..") != std::string::npos) return false;
  for (char c : f)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

/// The SQL for a field: a column for name/created/modified, json_extract for the rest. The JSON
/// path is bound as a parameter, so field names never become SQL.
std::string column(const std::string& field, std::vector<json>& binds) {
  if (field == "name" || field == "created" || field == "modified") return field;
  std::string path = "$";
  std::size_t start = 0;
  while (start <= field.size()) {
    auto dot = field.find('.', start);
    auto part = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    path += ".\"" + part + "\"";
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  binds.emplace_back(path);
  return "json_extract(data, ?)";
}

/// Values as SQLite sees them from json_extract: booleans are 1/0, structures compact JSON text.
json sql_value(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_object() || v.is_array()) return dump(v);
  return v;
}

expected<void> condition(const std::string& field, const json& cond, const std::string& at, std::string& sql,
                         std::vector<json>& binds) {
  auto scalar_eq = [&](const json& v, bool negate) {
    std::vector<json> b;
    auto col = column(field, b);
    if (v.is_null()) {
      sql += col + (negate ? " IS NOT NULL" : " IS NULL");
    } else if (negate) {
      auto col2 = column(field, b);
      sql += "(" + col + " IS NULL OR " + col2 + " != ?)";
      b.push_back(sql_value(v));
    } else {
      sql += col + " = ?";
      b.push_back(sql_value(v));
    }
    binds.insert(binds.end(), b.begin(), b.end());
  };
  bool is_ops = cond.is_object() && !cond.empty() && cond.begin().key().rfind('$', 0) == 0;
  if (!is_ops) {
    scalar_eq(cond, false);
    return {};
  }
  bool first = true;
  for (auto it = cond.begin(); it != cond.end(); ++it) {
    const auto& op = it.key();
    const auto& v = it.value();
    auto where = at + "." + field;
    if (!first) sql += " AND ";
    first = false;
    if (op == "$eq") {
      scalar_eq(v, false);
    } else if (op == "$ne") {
      scalar_eq(v, true);
    } else if (op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") {
      if (!v.is_number() && !v.is_string())
        return bad(where, op + " needs a number or a string, got " + std::string(v.type_name()));
      const char* sym = op == "$gt" ? ">" : op == "$gte" ? ">=" : op == "$lt" ? "<" : "<=";
      sql += column(field, binds) + " " + sym + " ?";
      binds.push_back(v);
    } else if (op == "$in") {
      if (!v.is_array()) return bad(where, "$in needs an array");
      if (v.empty()) {
        sql += "0";
        continue;
      }
      sql += column(field, binds) + " IN (";
      for (std::size_t i = 0; i < v.size(); ++i) {
        sql += i ? ",?" : "?";
        binds.push_back(sql_value(v[i]));
      }
      sql += ")";
    } else if (op == "$like") {
      if (!v.is_string()) return bad(where, "$like needs a string pattern");
      sql += column(field, binds) + " LIKE ?";
      binds.push_back(v);
    } else {
      return bad(where, "unknown operator '" + op + "' (use $eq $ne $gt $gte $lt $lte $in $like)");
    }
  }
  return {};
}

}  // namespace

expected<sql_query> build_where(const json& where, const std::string& at) {
  sql_query q;
  if (where.is_null()) {
    q.where = "1";
    return q;
  }
  if (!where.is_object()) return bad(at, "must be an object of field conditions");
  std::string sql;
  for (auto it = where.begin(); it != where.end(); ++it) {
    if (!valid_field(it.key())) return bad(at, "bad field name '" + it.key() + "'");
    if (!sql.empty()) sql += " AND ";
    sql += "(";
    if (auto r = condition(it.key(), it.value(), at, sql, q.binds); !r) return r.error();
    sql += ")";
  }
  q.where = sql.empty() ? "1" : sql;
  return q;
}

expected<sql_query> build_select(const json& query) {
  json input = query.is_null() ? json::object() : query;
  if (!input.is_object()) return bad("input", "select needs an object {where?, fields?, orderBy?, limit?, offset?}");
  static const std::set<std::string> known{"where", "fields", "orderBy", "limit", "offset"};
  for (auto it = input.begin(); it != input.end(); ++it)
    if (!known.count(it.key())) return bad(it.key(), "unknown query field (use where, fields, orderBy, limit, offset)");
  auto q = build_where(input.value("where", json()), "where");
  if (!q) return q;
  if (input.contains("fields")) {
    const auto& f = input["fields"];
    if (!f.is_array()) return bad("fields", "must be an array of field names");
    for (const auto& name : f) {
      if (!name.is_string() || !valid_field(name.get<std::string>())) return bad("fields", "bad field name");
      q->fields.push_back(name.get<std::string>());
    }
  }
  std::vector<std::string> order;
  if (input.contains("orderBy")) {
    const auto& o = input["orderBy"];
    if (o.is_string()) {
      order.push_back(o.get<std::string>());
    } else if (o.is_array()) {
      for (const auto& e : o) {
        if (!e.is_string()) return bad("orderBy", "must be a field name or an array of them");
        order.push_back(e.get<std::string>());
      }
    } else {
      return bad("orderBy", "must be a field name or an array of them");
    }
  }
  std::string order_sql;
  for (auto spec : order) {
    bool desc = false;
    if (!spec.empty() && spec[0] == '-') {
      desc = true;
      spec.erase(0, 1);
    }
    auto space = spec.find(' ');
    if (space != std::string::npos) {
      auto dir = spec.substr(space + 1);
      spec = spec.substr(0, space);
      if (dir == "desc" || dir == "DESC") {
        desc = true;
      } else if (dir != "asc" && dir != "ASC") {
        return bad("orderBy", "direction must be asc or desc");
      }
    }
    if (!valid_field(spec)) return bad("orderBy", "bad field name '" + spec + "'");
    if (!order_sql.empty()) order_sql += ", ";
    order_sql += column(spec, q->order_binds) + (desc ? " DESC" : " ASC");
  }
  q->order_by = order_sql.empty() ? "created ASC, name ASC" : order_sql + ", name ASC";
  for (const char* k : {"limit", "offset"}) {
    if (!input.contains(k)) continue;
    const auto& v = input[k];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0) return bad(k, "must be a non-negative integer");
    (std::string(k) == "limit" ? q->limit : q->offset) = v.get<std::int64_t>();
  }
  return q;
}

json project(const json& doc, const std::vector<std::string>& fields) {
  if (fields.empty()) return doc;
  json out = json::object();
  if (doc.contains("name")) out["name"] = doc["name"];
  for (const auto& f : fields) {
    const json* v = &doc;
    json::json_pointer ptr;
    std::size_t start = 0;
    bool found = true;
    while (found) {
      auto dot = f.find('.', start);
      auto part = f.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!v->is_object() || !v->contains(part)) {
        found = false;
        break;
      }
      v = &(*v)[part];
      ptr /= part;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (found) out[ptr] = *v;
  }
  return out;
}

}  // namespace coworker::store

// build_where / build_select: the query language as SQL over json_extract (SQLite) or jsonb
// (PostgreSQL: a field is `data::jsonb #> path` with JSON null read as SQL NULL, as json_extract
// reads it; values are bound as JSON text cast to jsonb).
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

bool is_column(const std::string& field) { return field == "name" || field == "created" || field == "modified"; }

/// The SQL for a field: a column for name/created/modified, else the JSON value at its path. The
/// path is bound as a parameter, so field names never become SQL.
std::string column(const std::string& field, std::vector<json>& binds, sql::dialect d) {
  if (is_column(field)) return field;
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    auto dot = field.find('.', start);
    parts.push_back(field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string path = d == sql::dialect::sqlite ? "$" : "{";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    // valid_field keeps `"` and `\` out, so quoting each part is enough in both forms.
    if (d == sql::dialect::sqlite) {
      path += ".\"" + parts[i] + "\"";
    } else {
      path += (i ? ",\"" : "\"") + parts[i] + "\"";
    }
  }
  if (d == sql::dialect::sqlite) {
    binds.emplace_back(path);
    return "json_extract(data, ?)";
  }
  binds.emplace_back(path + "}");
  return "NULLIF(data::jsonb #> ?::text[], 'null'::jsonb)";
}

/// The marker and the bound value of `v` compared with `field`. SQLite: as json_extract gives values
/// (booleans 1/0, structures compact JSON text). PostgreSQL: JSON text as jsonb for a JSON field.
std::string value(const std::string& field, const json& v, std::vector<json>& binds, sql::dialect d) {
  if (d == sql::dialect::postgresql) {
    if (is_column(field)) {
      binds.push_back(v.is_string() || v.is_number() ? v : json(dump(v)));
      return "?";
    }
    binds.emplace_back(dump(v));
    return "?::jsonb";
  }
  if (v.is_boolean()) {
    binds.emplace_back(v.get<bool>() ? 1 : 0);
  } else if (v.is_object() || v.is_array()) {
    binds.emplace_back(dump(v));
  } else {
    binds.push_back(v);
  }
  return "?";
}

expected<void> condition(const std::string& field, const json& cond, const std::string& at, std::string& sql,
                         std::vector<json>& binds, sql::dialect d) {
  auto scalar_eq = [&](const json& v, bool negate) {
    std::vector<json> b;
    auto col = column(field, b, d);
    if (v.is_null()) {
      sql += col + (negate ? " IS NOT NULL" : " IS NULL");
    } else if (negate) {
      auto col2 = column(field, b, d);
      sql += "(" + col + " IS NULL OR " + col2 + " != " + value(field, v, b, d) + ")";
    } else {
      sql += col + " = " + value(field, v, b, d);
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
      auto col = column(field, binds, d);
      if (d == sql::dialect::postgresql && !is_column(field)) {
        // jsonb orders numbers after strings; SQLite puts numbers first. Compare like with like.
        sql += "(jsonb_typeof(" + col + ") = '" + (v.is_number() ? "number" : "string") + "' AND ";
        col = column(field, binds, d);
        sql += col + " " + sym + " " + value(field, v, binds, d) + ")";
      } else {
        sql += col + " " + sym + " " + value(field, v, binds, d);
      }
    } else if (op == "$in") {
      if (!v.is_array()) return bad(where, "$in needs an array");
      if (v.empty()) {
        sql += "1=0";
        continue;
      }
      sql += column(field, binds, d) + " IN (";
      for (std::size_t i = 0; i < v.size(); ++i) sql += (i ? "," : "") + value(field, v[i], binds, d);
      sql += ")";
    } else if (op == "$like") {
      if (!v.is_string()) return bad(where, "$like needs a string pattern");
      if (d == sql::dialect::sqlite) {
        sql += column(field, binds, d) + " LIKE ?";
      } else if (is_column(field)) {
        sql += field + "::text ILIKE ?";  // SQLite's LIKE ignores case
      } else {
        column(field, binds, d);  // binds the path
        sql += "(data::jsonb #>> ?::text[]) ILIKE ?";
      }
      binds.push_back(v);
    } else {
      return bad(where, "unknown operator '" + op + "' (use $eq $ne $gt $gte $lt $lte $in $like)");
    }
  }
  return {};
}

}  // namespace

expected<sql_query> build_where(const json& where, const std::string& at, sql::dialect d) {
  sql_query q;
  if (where.is_null()) {
    q.where = "1=1";
    return q;
  }
  if (!where.is_object()) return bad(at, "must be an object of field conditions");
  std::string sql;
  for (auto it = where.begin(); it != where.end(); ++it) {
    if (!valid_field(it.key())) return bad(at, "bad field name '" + it.key() + "'");
    if (!sql.empty()) sql += " AND ";
    sql += "(";
    if (auto r = condition(it.key(), it.value(), at, sql, q.binds, d); !r) return r.error();
    sql += ")";
  }
  q.where = sql.empty() ? "1=1" : sql;
  return q;
}

expected<sql_query> build_select(const json& query, sql::dialect d) {
  json input = query.is_null() ? json::object() : query;
  if (!input.is_object()) return bad("input", "select needs an object {where?, fields?, orderBy?, limit?, offset?}");
  static const std::set<std::string> known{"where", "fields", "orderBy", "limit", "offset"};
  for (auto it = input.begin(); it != input.end(); ++it)
    if (!known.count(it.key())) return bad(it.key(), "unknown query field (use where, fields, orderBy, limit, offset)");
  auto q = build_where(input.value("where", json()), "where", d);
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
    order_sql += column(spec, q->order_binds, d) + (desc ? " DESC" : " ASC");
    // SQLite puts NULL (a missing field) first going up and last going down.
    if (d == sql::dialect::postgresql) order_sql += desc ? " NULLS LAST" : " NULLS FIRST";
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

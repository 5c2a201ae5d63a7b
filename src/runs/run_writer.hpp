// Writes run records as rows of schema 2 inside the caller's transaction (docs/store.md, "Run records"):
// a run row references its chain's and its owner's rows by row id, and its input and output values,
// each value of a chain stored once in `run_values`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "coworker/json.hpp"
#include "core/value_forms.hpp"
#include "coworker/run_record.hpp"
#include "runs/value_refs.hpp"
#include "store/database.hpp"

namespace coworker::runs {

class run_writer {
 public:
  /// Prepares its statements on `db` (SQLite or PostgreSQL); `ok()` says whether it could.
  run_writer(store::sql::database& db, value_refs& refs);
  bool ok() const;

  /// Inserts or updates the row of `r`, its values as `forms` gives them (the blobs they reference
  /// stored too; null: as they are); false on a database failure (the caller rolls back).
  bool write(const run_record& r, value_forms* forms = nullptr);
  /// Stores the blobs of chain `root_id`'s document (its first row is made when it has none yet).
  bool write_chain_blobs(const std::string& root_id, std::int64_t created, const std::vector<blob::stored>& blobs);
  /// The row id of run `id` of chain `chain` (its owner's row must be written first).
  std::optional<std::int64_t> row_of(const std::string& chain, const std::string& id);

 private:
  std::optional<std::int64_t> value_id(std::int64_t chain_row, const std::string& chain, const value_ptr& v,
                                       const std::string& text);
  bool write_row(const run_record& r);
  bool ensure_root(const std::string& id, std::int64_t created);
  bool store_blob(std::int64_t chain_row, const std::string& chain, const blob::stored& b);
  bool bind_value(std::int64_t chain_row, const std::string& chain, const value_ptr& v, int column);
  std::optional<json> bind_output_by_member(std::int64_t chain_row, const std::string& chain, const run_record& r);

  value_refs& refs_;
  value_forms* forms_ = nullptr;  ///< of the record being written: a value's text is handed on to it
  std::unique_ptr<store::sql::query> up_, add_, same_, find_, root_, blob_, link_;
};

}  // namespace coworker::runs

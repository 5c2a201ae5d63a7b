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
  /// The row id of run `id` as stored, whoever wrote it.
  std::optional<std::int64_t> stored_row(const std::string& id);
  bool write_row(const run_record& r);
  /// Binds `r` as parameters 1–8 of `q` (its values stored or found first); false on a failure.
  bool bind_row(store::sql::query& q, const run_record& r, const std::string& chain, std::int64_t chain_row,
                std::int64_t owner_row);
  /// SQLite: writes `r` over row `row`; `changed` says whether the row was there.
  bool update_row(const run_record& r, const std::string& chain, std::int64_t chain_row, std::int64_t owner_row,
                  std::int64_t row, std::int64_t& changed);
  bool ensure_root(const std::string& id, std::int64_t created);
  bool store_blob(std::int64_t chain_row, const std::string& chain, const blob::stored& b);
  bool bind_value(store::sql::query& q, std::int64_t chain_row, const std::string& chain, const value_ptr& v,
                  int column);
  std::optional<json> bind_output_by_member(store::sql::query& q, std::int64_t chain_row, const std::string& chain,
                                            const run_record& r);

  value_refs& refs_;
  const bool sqlite_;
  value_forms* forms_ = nullptr;  ///< of the record being written: a value's text is handed on to it
  bool small_ = false;            ///< the record's values are within half the blob budget (value_refs::small)
  std::string fields_;            ///< the row's `fields`, bound in place until its statement is reset
  /// up_: insert (SQLite) or upsert (PostgreSQL) of a run row; set_: SQLite's update by rowid.
  std::unique_ptr<store::sql::query> up_, set_, add_, same_, find_, root_, blob_, link_;
};

}  // namespace coworker::runs

// run_writer: one run record → one row of `runs` and its values in `run_values` (docs/store.md).
#include "runs/run_writer.hpp"

#include "runs/run_row.hpp"

namespace coworker::runs {

run_writer::run_writer(sqlite3* db, value_refs& refs)
    : db_(db),
      refs_(refs),
      up_(db, "INSERT INTO runs(id, chain, owner, status, created, input, output, fields) "
              "VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE SET status=excluded.status, created=excluded.created, "
              "input=excluded.input, output=excluded.output, fields=excluded.fields RETURNING rowid"),
      add_(db, "INSERT INTO run_values(chain, text) VALUES(?1,?2)"),
      same_(db, "SELECT text FROM run_values WHERE id=?1"),
      find_(db, "SELECT rowid FROM runs WHERE id=?1"),
      root_(db, "INSERT INTO runs(id, status, created, fields) VALUES(?1, 'pending', ?2, '{}') ON CONFLICT(id) DO NOTHING"),
      blob_(db, "INSERT OR IGNORE INTO blobs(id, bytes, text) VALUES(?1,?2,?3)"),
      link_(db, "INSERT OR IGNORE INTO run_blobs(chain, blob) VALUES(?1,?2)") {}

bool run_writer::ok() const { return up_ && add_ && same_ && find_ && root_ && blob_ && link_; }

bool run_writer::store_blob(std::int64_t chain_row, const std::string& chain, const blob::stored& b) {
  if (!refs_.new_blob(chain, b.id)) return true;
  blob_.bind_text(1, b.id);
  blob_.bind_int(2, static_cast<std::int64_t>(b.text.size()));
  sqlite3_bind_text(blob_.s, 3, b.text.data(), static_cast<int>(b.text.size()), SQLITE_STATIC);  // lives past the step
  bool ok = sqlite3_step(blob_.s) == SQLITE_DONE;
  sqlite3_reset(blob_.s);
  link_.bind_int(1, chain_row);
  link_.bind_text(2, b.id);
  ok = ok && sqlite3_step(link_.s) == SQLITE_DONE;
  sqlite3_reset(link_.s);
  return ok;
}

std::optional<std::int64_t> run_writer::row_of(const std::string& chain, const std::string& id) {
  if (auto row = refs_.row(chain, id)) return row;
  find_.bind_text(1, id);
  std::optional<std::int64_t> row;
  if (sqlite3_step(find_.s) == SQLITE_ROW) row = sqlite3_column_int64(find_.s, 0);
  sqlite3_reset(find_.s);
  if (row) refs_.remember_row(chain, id, *row);
  return row;
}

std::optional<std::int64_t> run_writer::value_id(std::int64_t chain_row, const std::string& chain, const value_ptr& v,
                                                 const std::string& text) {
  for (auto id : refs_.by_text(chain, text)) {
    same_.bind_int(1, id);
    bool equal = sqlite3_step(same_.s) == SQLITE_ROW && same_.column_text(0) == text;
    sqlite3_reset(same_.s);
    if (equal) {
      if (v) refs_.remember(chain, v, text, id);
      return id;
    }
  }
  add_.bind_int(1, chain_row);
  add_.bind_text(2, text);
  bool ok = sqlite3_step(add_.s) == SQLITE_DONE;
  sqlite3_reset(add_.s);
  if (!ok) return std::nullopt;
  auto id = sqlite3_last_insert_rowid(db_);
  refs_.remember(chain, v, text, id);
  return id;
}

bool run_writer::bind_value(std::int64_t chain_row, const std::string& chain, const value_ptr& v, int column) {
  if (!v) return sqlite3_bind_null(up_.s, column) == SQLITE_OK;
  auto id = refs_.by_address(chain, v);
  if (!id) id = value_id(chain_row, chain, v, dump(*v));
  return id && sqlite3_bind_int64(up_.s, column, *id) == SQLITE_OK;
}

// A chain's output is {steps, success, last} (docs/run-record.md): `last` is a value of the chain
// passed on unchanged. It is stored (or found) as a value of its own and bound in the output's place;
// the rest is returned for `fields`.
std::optional<json> run_writer::bind_output_by_member(std::int64_t chain_row, const std::string& chain, const run_record& r) {
  if (!r.output || !r.output->is_object() || refs_.by_address(chain, r.output)) return std::nullopt;
  auto member = r.output->find(referenced_member);
  if (member == r.output->end()) return std::nullopt;
  auto id = value_id(chain_row, chain, nullptr, dump(*member));
  if (!id || sqlite3_bind_int64(up_.s, 7, *id) != SQLITE_OK) return std::nullopt;
  json with = *r.output;
  with.erase(referenced_member);
  return with;
}

bool run_writer::ensure_root(const std::string& id, std::int64_t created) {
  if (refs_.row(id, id)) return true;  // a chain's first row: its values need its row id
  root_.bind_text(1, id);
  root_.bind_int(2, created);
  bool ok = sqlite3_step(root_.s) == SQLITE_DONE;
  sqlite3_reset(root_.s);
  return ok;
}

bool run_writer::write_chain_blobs(const std::string& root_id, std::int64_t created,
                                   const std::vector<blob::stored>& blobs) {
  if (blobs.empty()) return true;
  if (!ensure_root(root_id, created)) return false;
  auto row = row_of(root_id, root_id);
  if (!row) return false;
  for (const auto& b : blobs)
    if (!store_blob(*row, root_id, b)) return false;
  return true;
}

bool run_writer::write(const run_record& r, value_forms* forms) {
  if (!forms) return write_row(r);
  auto f = forms->of(r);
  if (f.blobs.empty()) return write_row(r);
  const bool root = r.owner_run_id.empty();
  const std::string& chain = root ? r.id : r.chain_id;
  run_record carried = r;
  carried.input = std::move(f.input);
  carried.output = std::move(f.output);
  if (!write_row(carried)) return false;
  auto chain_row = row_of(chain, chain);
  if (!chain_row) return true;  // not written (write_row)
  for (const auto& b : f.blobs)
    if (!store_blob(*chain_row, chain, *b)) return false;
  return true;
}

bool run_writer::write_row(const run_record& r) {
  const bool root = r.owner_run_id.empty();
  const std::string& chain = root ? r.id : r.chain_id;
  if (root && !ensure_root(r.id, r.created)) return false;
  auto chain_row = row_of(chain, chain);
  // A run's chain and owner are written before it (their starts come first). Should one be missing,
  // the store must not refuse every later batch for it: a run of a chain that retention deleted is
  // not written, and a run whose owner is missing is written under its chain.
  if (!chain_row) return true;
  auto owner_row = root ? chain_row : row_of(chain, r.owner_run_id);
  if (!owner_row) owner_row = chain_row;
  up_.bind_text(1, r.id);
  if (root) {
    sqlite3_bind_null(up_.s, 2);
    sqlite3_bind_null(up_.s, 3);
  } else {
    up_.bind_int(2, *chain_row);
    up_.bind_int(3, *owner_row);
  }
  up_.bind_text(4, std::string(to_string(r.status)));
  up_.bind_int(5, r.created);
  auto output_with = bind_output_by_member(*chain_row, chain, r);
  up_.bind_text(8, row_fields(r, output_with ? &*output_with : nullptr));
  bool ok = bind_value(*chain_row, chain, r.input, 6) && (output_with || bind_value(*chain_row, chain, r.output, 7)) &&
            sqlite3_step(up_.s) == SQLITE_ROW;
  if (ok) refs_.remember_row(chain, r.id, sqlite3_column_int64(up_.s, 0));
  ok = ok && sqlite3_step(up_.s) == SQLITE_DONE;
  sqlite3_reset(up_.s);
  return ok;
}

}  // namespace coworker::runs

// run_writer: one run record → one row of `runs` and its values in `run_values` (docs/store.md).
#include "runs/run_writer.hpp"

#include "runs/run_row.hpp"

namespace coworker::runs {

// The statements run as written on SQLite and PostgreSQL (whose `runs` has a `rowid` column of its
// own, runs/postgresql_schema.cpp), but for how a written row's id comes back: on PostgreSQL from
// `RETURNING`; on SQLite, where `RETURNING` makes a result table for every row written, from the
// connection (the rowid of its last insert), and a row written before is updated by its rowid.
run_writer::run_writer(store::sql::database& db, value_refs& refs)
    : refs_(refs),
      sqlite_(db.dialect() == store::sql::dialect::sqlite),
      up_(db.prepare(sqlite_ ? "INSERT INTO runs(id, chain, owner, status, created, input, output, fields) "
                               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO NOTHING"
                             : "INSERT INTO runs(id, chain, owner, status, created, input, output, fields) "
                               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE SET status=excluded.status, "
                               "created=excluded.created, input=excluded.input, output=excluded.output, "
                               "fields=excluded.fields RETURNING rowid")),
      set_(sqlite_ ? db.prepare("UPDATE runs SET status=?4, created=?5, input=?6, output=?7, fields=?8 WHERE rowid=?9")
                   : nullptr),
      add_(db.prepare(sqlite_ ? "INSERT INTO run_values(chain, text) VALUES(?1,?2)"
                              : "INSERT INTO run_values(chain, text) VALUES(?1,?2) RETURNING id")),
      same_(db.prepare("SELECT text FROM run_values WHERE id=?1")),
      find_(db.prepare("SELECT rowid FROM runs WHERE id=?1")),
      root_(db.prepare("INSERT INTO runs(id, status, created, fields) VALUES(?1, 'pending', ?2, '{}') ON CONFLICT(id) DO NOTHING")),
      blob_(db.prepare("INSERT INTO blobs(id, bytes, text) VALUES(?1,?2,?3) ON CONFLICT DO NOTHING")),
      link_(db.prepare("INSERT INTO run_blobs(chain, blob) VALUES(?1,?2) ON CONFLICT DO NOTHING")) {}

bool run_writer::ok() const {
  return up_ && (set_ || !sqlite_) && add_ && same_ && find_ && root_ && blob_ && link_;
}

bool run_writer::store_blob(std::int64_t chain_row, const std::string& chain, const blob::stored& b) {
  if (!refs_.new_blob(chain, b.id)) return true;
  blob_->bind_text(1, b.id);
  blob_->bind_int(2, static_cast<std::int64_t>(b.text.size()));
  blob_->bind_text(3, b.text);
  bool ok = blob_->run();
  blob_->reset();
  link_->bind_int(1, chain_row);
  link_->bind_text(2, b.id);
  ok = ok && link_->run();
  link_->reset();
  return ok;
}

std::optional<std::int64_t> run_writer::stored_row(const std::string& id) {
  find_->bind_text(1, id);
  std::optional<std::int64_t> row;
  if (find_->next() == store::sql::step::row) row = find_->integer(0);
  find_->reset();
  return row;
}

std::optional<std::int64_t> run_writer::row_of(const std::string& chain, const std::string& id) {
  if (auto row = refs_.row(chain, id)) return row;
  auto row = stored_row(id);
  if (row) refs_.remember_row(chain, id, *row);
  return row;
}

std::optional<std::int64_t> run_writer::value_id(std::int64_t chain_row, const std::string& chain, const value_ptr& v,
                                                 const std::string& text) {
  for (auto id : refs_.by_text(chain, text)) {
    same_->bind_int(1, id);
    bool equal = same_->next() == store::sql::step::row && same_->text(0) == text;
    same_->reset();
    if (equal) {
      if (v) refs_.remember(chain, v, text, id, small_);
      return id;
    }
  }
  add_->bind_int(1, chain_row);
  add_->bind_kept_text(2, text);
  std::optional<std::int64_t> added;
  bool ok = false;
  if (sqlite_) {
    ok = add_->run();
    if (ok) added = add_->inserted_rowid();
  } else {
    if (add_->next() == store::sql::step::row) added = add_->integer(0);
    ok = added && add_->next() == store::sql::step::done;
  }
  add_->reset();
  if (!ok) return std::nullopt;
  const auto id = *added;
  refs_.remember(chain, v, text, id, small_);
  return id;
}

bool run_writer::bind_value(store::sql::query& q, std::int64_t chain_row, const std::string& chain, const value_ptr& v,
                            int column) {
  if (!v) {
    q.bind_null(column);
    return true;
  }
  auto id = refs_.by_address(chain, v);
  if (!id) {
    auto text = dump(*v);
    id = value_id(chain_row, chain, v, text);  // binds the text in place until its statement is reset
    if (id && forms_) forms_->hand_text(v, std::move(text));  // the events carrying v need it next
  }
  if (id) q.bind_int(column, *id);
  return id.has_value();
}

// A chain's output is {steps, success, last} (docs/run-record.md): `last` is a value of the chain
// passed on unchanged. It is stored (or found) as a value of its own and bound in the output's place;
// the rest is returned for `fields`.
std::optional<json> run_writer::bind_output_by_member(store::sql::query& q, std::int64_t chain_row,
                                                      const std::string& chain, const run_record& r) {
  if (!r.output || !r.output->is_object() || refs_.by_address(chain, r.output)) return std::nullopt;
  auto member = r.output->find(referenced_member);
  if (member == r.output->end()) return std::nullopt;
  const auto text = dump(*member);
  auto id = value_id(chain_row, chain, nullptr, text);
  if (!id) return std::nullopt;
  q.bind_int(7, *id);
  json with = *r.output;
  with.erase(referenced_member);
  return with;
}

bool run_writer::ensure_root(const std::string& id, std::int64_t created) {
  if (refs_.row(id, id)) return true;  // a chain's first row: its values need its row id
  root_->bind_text(1, id);
  root_->bind_int(2, created);
  bool ok = root_->run();
  root_->reset();
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
  forms_ = forms;
  small_ = false;
  if (!forms) return write_row(r);
  const bool root = r.owner_run_id.empty();
  const std::string& chain = root ? r.id : r.chain_id;
  // forms->of(r)'s fast path, each value of a chain sized once: one passed down the chain is in the
  // rows of two runs.
  auto small = [&](const value_ptr& v) {
    if (!v) return true;
    auto known = refs_.small(chain, v);
    return known ? *known : forms->within_half(*v);
  };
  if (small(r.input) && small(r.output)) {
    small_ = true;
    const bool ok = write_row(r);
    small_ = false;
    return ok;
  }
  auto f = forms->of(r);
  if (f.blobs.empty()) return write_row(r);
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
  if (!sqlite_) {
    bool ok = bind_row(*up_, r, chain, *chain_row, *owner_row) && up_->next() == store::sql::step::row;
    if (ok) refs_.remember_row(chain, r.id, up_->integer(0));
    ok = ok && up_->next() == store::sql::step::done;
    up_->reset();
    return ok;
  }
  // SQLite: a row this writer wrote is updated by its rowid; a new one is inserted.
  if (auto row = refs_.row(chain, r.id)) {
    std::int64_t changed = 0;
    if (!update_row(r, chain, *chain_row, *owner_row, *row, changed)) return false;
    if (changed) return true;  // else deleted meanwhile (retention): written anew below
  }
  bool ok = bind_row(*up_, r, chain, *chain_row, *owner_row) && up_->run();
  const std::int64_t inserted = ok && up_->changes() == 1 ? up_->inserted_rowid() : 0;
  up_->reset();
  if (!ok) return false;
  if (inserted) {
    refs_.remember_row(chain, r.id, inserted);
    return true;
  }
  // The row was there before this writer knew it (a chain resumed after a restart): updated in place.
  auto row = stored_row(r.id);
  std::int64_t changed = 0;
  if (!row || !update_row(r, chain, *chain_row, *owner_row, *row, changed)) return false;
  refs_.remember_row(chain, r.id, *row);
  return true;
}

bool run_writer::update_row(const run_record& r, const std::string& chain, std::int64_t chain_row,
                            std::int64_t owner_row, std::int64_t row, std::int64_t& changed) {
  set_->bind_int(9, row);
  const bool ok = bind_row(*set_, r, chain, chain_row, owner_row) && set_->run();
  changed = ok ? set_->changes() : 0;
  set_->reset();
  return ok;
}

bool run_writer::bind_row(store::sql::query& q, const run_record& r, const std::string& chain, std::int64_t chain_row,
                          std::int64_t owner_row) {
  const bool root = r.owner_run_id.empty();
  q.bind_kept_text(1, r.id);
  if (root) {
    q.bind_null(2);
    q.bind_null(3);
  } else {
    q.bind_int(2, chain_row);
    q.bind_int(3, owner_row);
  }
  q.bind_text(4, to_string(r.status));
  q.bind_int(5, r.created);
  auto output_with = bind_output_by_member(q, chain_row, chain, r);
  fields_ = row_fields(r, output_with ? &*output_with : nullptr);
  q.bind_kept_text(8, fields_);
  return bind_value(q, chain_row, chain, r.input, 6) && (output_with || bind_value(q, chain_row, chain, r.output, 7));
}

}  // namespace coworker::runs

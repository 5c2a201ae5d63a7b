// A run record as a row of the `runs` table (docs/store.md, "Run records"): the columns the store
// searches by (id, chainId, ownerRunId, status, created), references to the input and output values
// (table `run_values`, each value once per chain) and `fields`, the record's other members as compact
// JSON without the ones at their default. Pure: no SQLite here, so the round trip is tested alone.
#pragma once

#include <string>

#include "coworker/error.hpp"
#include "coworker/run_record.hpp"

namespace coworker::runs {

/// The record's members outside the columns and the values, as compact JSON; members at their
/// default (empty strings, false, 0, stepIndex -1, no error, no children) are left out.
/// `output_with`: the output stored as this object plus its member `last`, whose value is the row's
/// output reference (a chain's output carries its last step's output unchanged: stored once).
std::string row_fields(const run_record& r, const json* output_with = nullptr);

/// The member of a chain's output that may be stored by reference.
inline constexpr const char* referenced_member = "last";

/// The columns of one row, read back.
struct row {
  std::string id, chain_id, owner_id, status;
  std::int64_t created = 0;
  std::string fields;  ///< row_fields' text
  value_ptr input, output;  ///< output: the whole output, or its member `last` when fields has `outputWith`
};

/// The record a row holds; an error naming the run when `fields` or `status` cannot be read.
expected<run_record> record_from_row(row r);

}  // namespace coworker::runs

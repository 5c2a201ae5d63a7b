// Redrive in the engine (docs/chain-language.md, "Redrive"): a failed or cancelled top chain runs
// again under its id. Its recorded tree becomes a resume plan that keeps only the runs that ended
// well (run::machine); the registry takes the chain back as active; a durable store writes its
// document again among the chains in flight, so a crash during the redrive resumes it.
#include "engine_impl.hpp"

namespace coworker {

namespace {

/// Where a redrive starts the chain from: its root step, its submit-time input, what the store keeps.
struct redrive_source {
  chain::step_ptr root;
  value_ptr pipe;
  chain_submission stored;
};

}  // namespace

expected<redrive_outcome> engine::impl::redrive(const std::string& run_id, const redrive_options& opts) {
  auto rec = registry->get(run_id);
  if (!rec) return make_error(codes::not_found, "no run '" + run_id + "'", "/runId");
  if (!rec->owner_run_id.empty())
    return make_error(codes::invalid_input,
                      "run '" + run_id + "' is a step of chain '" + rec->chain_id + "': redrive the chain", "/runId");
  if (rec->status != run_status::failed && rec->status != run_status::cancelled)
    return make_error(codes::not_redrivable, "chain '" + run_id + "' is " + std::string(to_string(rec->status)) +
                                                 ": only a failed or cancelled chain can be redriven");
  // Its end is stored before its row is written again as in flight (the end would mark it ended).
  bool ended = false;
  registry->wait_final(run_id, std::chrono::seconds(10), ended);
  if (!ended) return make_error(codes::unavailable, "the end of chain '" + run_id + "' is not stored yet; try again later");

  std::lock_guard lock(submit_mu);  // one redrive of a chain at a time, and none while it starts
  rec = registry->get(run_id);
  if (!rec || (rec->status != run_status::failed && rec->status != run_status::cancelled))
    return make_error(codes::not_redrivable, "chain '" + run_id + "' is " +
                                                 (rec ? std::string(to_string(rec->status)) : std::string("gone")) +
                                                 ": only a failed or cancelled chain can be redriven");
  auto records = registry->chain_records(run_id);
  if (records.empty() && runs) records = whole_chain_records(run_id);
  if (records.empty()) return make_error(codes::not_found, "the records of chain '" + run_id + "' are gone", "/runId");

  redrive_source src;
  if (runs) {
    auto c = runs->chain(run_id);
    if (!c)
      return make_error(codes::not_found, "the document of chain '" + run_id +
                                              "' is not stored (deleted by retention, or the chain ended before "
                                              "this coworker kept documents)",
                        "/runId");
    for (json* v : {&c->document, &c->input}) {  // a large chain input is stored as blobs
      auto w = whole(*v);
      if (!w) return w.error();
      if (*w) *v = std::move(**w);
    }
    auto compiled = compile_document(c->document);
    if (!compiled.ok()) {
      auto e = compiled.errors.front();
      e.message = "chain '" + run_id + "' cannot run again: " + e.message;
      return e;
    }
    src.root = compiled.doc->root;
    if (c->has_input) {
      auto copy = std::make_shared<chain::step>(*src.root);
      copy->has_input = false;
      src.root = std::move(copy);
      src.pipe = share(c->input);
    }
    src.stored = chain_submission{run_id, share(std::move(c->document)), src.pipe, c->key, rec->created};
  } else {
    auto origin = std::static_pointer_cast<const chain_origin>(registry->origin(run_id));
    if (!origin)
      return make_error(codes::not_found, "chain '" + run_id + "' is no longer held in memory (limits.retainedBytes)",
                        "/runId");
    src.root = origin->root;
    src.pipe = origin->pipe;
  }

  auto plan = std::make_shared<const resume_plan>(records, true);
  redrive_outcome out;
  out.run_id = run_id;
  out.redrives = rec->redrives + 1;
  out.would_run = redrive_steps(*src.root, *plan, run_id);
  if (opts.dry_run) return out;

  if (startup_error) return *startup_error;
  if (registry->active_chains() >= cfg.lim.max_concurrent_runs)
    return make_error(codes::busy, "the engine runs " + std::to_string(cfg.lim.max_concurrent_runs) +
                                       " chains already; try again later");
  if (auto failing = registry->store_failure())
    return make_error(codes::unavailable, "the store cannot write (" + failing->message +
                                              "); nothing new is accepted until it can, try again later");
  if (auto r = registry->reopen(run_id, records, std::move(src.stored)); !r) return r.error();
  run_spec spec;
  spec.core = &core;
  auto& w = spec.where;
  w.step = src.root;
  w.pipe = src.pipe;
  w.id = w.chain_id = run_id;
  w.created = rec->created;
  w.resume = std::move(plan);
  w.seed = core.seeds++;
  w.trace = trace_of(run_id, *rec);
  spawn_run(*sys, std::move(spec));
  return out;
}

expected<redrive_outcome> engine::redrive(const std::string& run_id, const redrive_options& opts) {
  auto out = impl_->redrive(run_id, opts);
  if (out && !opts.dry_run && impl_->runs && opts.wait_durable) impl_->registry->wait_durable(run_id);
  return out;
}

}  // namespace coworker

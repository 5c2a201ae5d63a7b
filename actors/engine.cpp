// coworker::engine: the public API (include/coworker/engine.hpp) over engine::impl
// (actors/engine_impl.hpp), which wires the actor system, the registry, the operations and the pools.
#include "engine_impl.hpp"

namespace coworker {

struct subscription::impl {
  std::weak_ptr<run_registry> registry;
  std::uint64_t id = 0;
  ~impl() {
    if (auto r = registry.lock()) r->unsubscribe(id);
  }
};

subscription::subscription(subscription&&) noexcept = default;
subscription& subscription::operator=(subscription&&) noexcept = default;
subscription::~subscription() = default;
void subscription::reset() { impl_.reset(); }

engine::engine(engine_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  if (impl_->cfg.auto_resume) impl_->resume();
  impl_->start_keeper();  // in a cluster: takes over what dead nodes leave from now on
}

std::size_t engine::resume() { return impl_->resume(); }
void engine::shutdown() { impl_->shutdown(); }
engine::~engine() = default;

const std::optional<error>& engine::startup_error() const { return impl_->startup_error; }

expected<void> engine::register_operation(operation op) { return impl_->ops.add(std::move(op)); }

expected<void> engine::register_operation(std::string name, sync_handler fn) {
  operation op;
  op.name = std::move(name);
  op.sync = std::move(fn);
  return impl_->ops.add(std::move(op));
}

std::vector<std::shared_ptr<const operation>> engine::operations() const { return impl_->ops.all(); }
void engine::unregister_operation(const std::string& name) { impl_->ops.remove(name); }

std::vector<error> engine::validate(const json& chain) const {
  return chain::compile_chain(chain, impl_->compile_opts()).errors;
}

std::vector<error> engine::validate_text(std::string_view text) const {
  return chain::compile_chain_text(text, impl_->compile_opts()).errors;
}

expected<std::string> engine::submit(const json& chain, const submit_options& opts) {
  bool created = false;
  auto id = impl_->start(chain::compile_chain(chain, impl_->compile_opts()), &chain, opts, created);
  if (!id) return id;
  // Accepted means stored: the caller hears of the chain once its first event is durable.
  if (impl_->runs && opts.wait_durable) impl_->registry->wait_durable(*id);
  return id;
}

bool engine::durable(const std::string& run_id) const { return impl_->registry->is_durable(run_id); }

expected<std::string> engine::submit_text(std::string_view text, const submit_options& opts) {
  auto parsed = chain::parse_json(text, impl_->cfg.lim);
  if (!parsed) return std::move(parsed).error();
  return submit(*parsed, opts);
}

expected<json> engine::run(const json& chain, const submit_options& opts) {
  auto id = submit(chain, opts);
  if (!id) return std::move(id).error();
  auto done = wait(*id);
  if (!done) return std::move(done).error();
  return tree(*id);
}

expected<run_record> engine::wait(const std::string& run_id, std::chrono::milliseconds timeout) const {
  bool ended = false;
  auto r = impl_->registry->wait_final(run_id, timeout, ended);
  if (!r) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (!ended) return make_error(codes::timeout, "run '" + run_id + "' has not ended yet (or its end is not stored yet)");
  return *r;
}

expected<run_record> engine::get(const std::string& run_id) const {
  auto r = impl_->registry->get(run_id);
  if (!r) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (!impl_->runs) return *r;
  run_record out = *r;  // read back from the store, its values may be references
  if (auto w = impl_->whole_values(out); !w) return std::move(w).error();
  return out;
}

expected<std::size_t> engine::prune_history() {
  if (!impl_->pruner) return std::size_t{0};
  return impl_->pruner->pass();
}

expected<json> engine::tree(const std::string& run_id, bool by_reference) const {
  auto t = impl_->registry->tree(run_id, by_reference ? impl_->forms.get() : nullptr);
  if (!t) return make_error(codes::not_found, "no run '" + run_id + "'");
  if (!by_reference && impl_->runs) {  // records read back from the store hold references
    std::vector<json*> todo{&*t};
    while (!todo.empty()) {
      json* node = todo.back();
      todo.pop_back();
      for (const char* k : {"input", "output"}) {
        auto r = impl_->whole((*node)[k]);
        if (!r) return std::move(r).error();
        if (*r) (*node)[k] = std::move(**r);
      }
      for (auto& c : (*node)["children"]) todo.push_back(&c);
    }
  }
  return std::move(*t);
}

std::vector<std::shared_ptr<const run_record>> engine::tree_records(const std::string& run_id) const {
  return impl_->registry->tree_records(run_id);
}

expected<json> engine::blob(const std::string& id) const {
  auto ref = blob::make_ref(id, 0);
  if (!blob::is_ref(ref)) return make_error(codes::invalid_input, "a blob id is \"sha256:\" and 64 lower-case hex digits", "/id");
  return blob::resolve(ref, [this](const std::string& b) { return impl_->blob_text(b); });
}

value_forms& engine::forms() const { return *impl_->forms; }

std::vector<run_record> engine::list(const list_query& q) const {
  list_filter f{q.status, q.chain_id, q.roots_only, q.limit};
  std::vector<run_record> out;
  for (const auto& r : impl_->registry->list(f)) out.push_back(*r);
  return out;
}

expected<void> engine::cancel(const std::string& run_id) { return impl_->cancel(run_id, true); }

subscription engine::subscribe(std::function<void(const event&)> fn) {
  subscription s;
  s.impl_ = std::make_shared<subscription::impl>();
  s.impl_->registry = impl_->registry;
  s.impl_->id = impl_->registry->subscribe(std::move(fn));
  return s;
}

event_cursor::event_cursor(event_cursor&&) noexcept = default;
event_cursor& event_cursor::operator=(event_cursor&& o) noexcept {
  if (this != &o) {
    if (registry_) registry_->log().close(id_);
    registry_ = std::move(o.registry_);
    id_ = o.id_;
    handed_ = o.handed_;
    batch_ = std::move(o.batch_);
  }
  return *this;
}
event_cursor::~event_cursor() {
  if (registry_) registry_->log().close(id_);
}

const std::vector<const event*>& event_cursor::next(std::size_t max) {
  batch_.clear();
  if (!registry_) return batch_;
  auto& log = registry_->log();
  if (handed_ > log.position(id_)) log.advance(id_, handed_);
  log.peek(id_, batch_, max);
  if (!batch_.empty()) handed_ = batch_.back()->seq;
  return batch_;
}

std::uint64_t event_cursor::position() const { return handed_; }

event_cursor engine::open_cursor(std::function<void()> wake) {
  event_cursor c;
  c.registry_ = impl_->registry;
  auto& log = impl_->registry->log();
  c.handed_ = log.durable_seq();
  c.id_ = log.open(c.handed_, std::move(wake));
  c.handed_ = log.position(c.id_);
  return c;
}

event_page engine::events_after(std::uint64_t since, std::chrono::milliseconds wait, std::size_t max) const {
  auto b = impl_->registry->log().read_after(since, wait, max);
  event_page p;
  p.st = static_cast<event_page::status>(b.st);
  p.events = std::move(b.events);
  return p;
}

std::vector<std::shared_ptr<const run_record>> engine::snapshot_records(std::size_t recent_chains, std::uint64_t& seq) const {
  return impl_->registry->snapshot_records(recent_chains, &seq);
}

json engine::snapshot(std::size_t recent_chains) const {
  std::uint64_t seq = 0;
  auto records = impl_->registry->snapshot_records(recent_chains, &seq);
  json runs = json::array();
  for (const auto& r : records) runs.push_back(to_json(*r, *impl_->forms));
  return json{{"seq", seq}, {"epoch", impl_->registry->epoch()}, {"stream", impl_->registry->stream()}, {"runs", std::move(runs)}};
}

std::uint64_t engine::seq() const { return impl_->registry->durable_seq(); }
const std::string& engine::epoch() const { return impl_->registry->epoch(); }
const std::string& engine::stream() const { return impl_->registry->stream(); }
std::size_t engine::active_chains() const { return impl_->registry->active_chains(); }
const engine_config& engine::config() const { return impl_->cfg; }

engine_stats engine::stats() const {
  engine_stats s;
  s.subscribers = impl_->registry->subscriber_count();
  s.store_commits = impl_->commit_latency.read();
  s.seq = impl_->registry->seq();
  s.durable_seq = impl_->registry->durable_seq();
  s.store_writable = !impl_->registry->store_failure();
  s.log_events = impl_->registry->log().size();
  return s;
}

}  // namespace coworker

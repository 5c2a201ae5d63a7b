// A real full disk under the embedding API (docs/durability.md, "When the store cannot write"):
// the store lives on a tmpfs this test mounts (as root; skipped otherwise). While it is full, no
// event reaches a subscriber and no run is reported ended before it is stored, and submit()
// answers `unavailable`; once space returns, every chain in flight completes and is stored.
#include <sys/mount.h>
#include <unistd.h>

#include <sqlite3.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "engine_fixture.hpp"

using namespace coworker;
using namespace coworker::test;
namespace fs = std::filesystem;

namespace {

struct tmpfs_mount {
  fs::path dir;
  bool ok = false;
  explicit tmpfs_mount(const char* size) {
    char tmpl[] = "/tmp/coworker-fulldisk-XXXXXX";
    dir = mkdtemp(tmpl);
    ok = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, size) == 0;
  }
  ~tmpfs_mount() {
    if (ok) ::umount2(dir.c_str(), MNT_DETACH);
    fs::remove_all(dir);
  }
};

/// Writes zeros until the filesystem is full.
void fill(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "wb");
  BOOST_REQUIRE(f);
  std::setvbuf(f, nullptr, _IONBF, 0);
  std::vector<char> chunk(1 << 16, 0);
  while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) {
  }
  while (std::fwrite(chunk.data(), 1, 512, f) == 512) {
  }
  std::fclose(f);
}

json waits_chain(int i, int ms) {
  json steps = json::array();
  for (int k = 1; k <= 3; ++k) steps.push_back(json{{"id", "w" + std::to_string(k)}, {"operation", "wait"}, {"input", {{"ms", ms}}}});
  return json{{"operation", "run"}, {"input", {{"i", i}, {"pad", std::string(24000, 'x')}}}, {"children", steps}};
}

std::map<std::string, std::string> stored_runs(const fs::path& db) {
  std::map<std::string, std::string> out;
  sqlite3* h = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(h, "SELECT id, status FROM runs", -1, &q, nullptr) == SQLITE_OK);
  while (sqlite3_step(q) == SQLITE_ROW)
    out[reinterpret_cast<const char*>(sqlite3_column_text(q, 0))] = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
  sqlite3_finalize(q);
  sqlite3_close(h);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(full_disk)

BOOST_AUTO_TEST_CASE(a_full_disk_holds_events_and_refuses_new_chains_until_space_returns) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: mounting a tmpfs needs root");
    return;
  }
  tmpfs_mount disk("size=16m");
  BOOST_REQUIRE_MESSAGE(disk.ok, "cannot mount a tmpfs");
  const auto db = disk.dir / "c.db";
  std::vector<std::string> ids;
  std::string witness_id;
  std::mutex mu;  // guards what the callbacks below fill in
  std::condition_variable changed;
  std::set<std::string> published;        // runs with an event published
  std::set<std::string> published_ends;   // runs with their after:run published
  std::uint64_t last_published = 0;       // the seq of the last event published
  bool store_failed = false;              // the engine said the store cannot write
  std::vector<std::string> logged;
  {
    engine_config cfg;
    cfg.db_path = db.string();
    cfg.log_sink = [&](std::string_view level, std::string_view text) {
      {
        std::lock_guard lock(mu);
        logged.push_back(std::string(level) + " " + std::string(text));
        if (text.find("the store cannot write") != std::string_view::npos) store_failed = true;
      }
      changed.notify_all();
    };
    engine eng(cfg);
    BOOST_REQUIRE(!eng.startup_error());
    auto sub = eng.subscribe([&](const event& e) {
      {
        std::lock_guard lock(mu);
        published.insert(e.run->id);
        if (e.kind == event_kind::after_run) published_ends.insert(e.run->id);
        last_published = e.seq;
      }
      changed.notify_all();
    });
    for (int i = 0; i < 40; ++i) {
      auto id = eng.submit(waits_chain(i, 400));
      BOOST_REQUIRE(id);
      ids.push_back(*id);
    }
    // A witness that cannot end on its own before the disk is full: cancelled once a write has
    // failed, it ends while the disk is full whatever the machine's speed.
    auto witness = eng.submit(waits_chain(-1, 600000));
    BOOST_REQUIRE(witness);
    witness_id = *witness;
    fill(disk.dir / "fill");

    // A write fails soon: from then on submit answers unavailable. Probes (which do not wait to be
    // stored) write more until one cannot be stored; after each the test waits for what settles
    // it: its first event published (stored), or the engine saying the store cannot write.
    submit_options probe;
    probe.wait_durable = false;
    std::optional<error> refused;
    for (int i = 0; i < 3000 && !refused; ++i) {
      auto r = eng.submit(waits_chain(1000 + i, 1), probe);
      if (!r) {
        refused = r.error();
        break;
      }
      std::unique_lock lock(mu);
      BOOST_REQUIRE_MESSAGE(changed.wait_for(lock, safety_timeout, [&] { return store_failed || published.count(*r) > 0; }),
                            "probe " << i << " was neither stored nor held by a store that cannot write");
    }
    BOOST_REQUIRE_MESSAGE(refused, "3000 probes were accepted on a full disk");
    BOOST_TEST(refused->code == codes::unavailable);
    BOOST_TEST(!eng.stats().store_writable);
    const auto stored_upto = eng.stats().durable_seq;

    // The chains go on in memory while the disk is full: the witness, cancelled now, ends. No
    // event can announce that end (events wait for the store: that is what is tested), so the test
    // reads the record until it is final, bounded by the safety timeout.
    BOOST_REQUIRE(eng.cancel(*witness));
    bool ended_in_memory = false;
    for (const auto give_up = std::chrono::steady_clock::now() + safety_timeout;
         !ended_in_memory && std::chrono::steady_clock::now() < give_up;) {
      auto r = eng.get(*witness);
      ended_in_memory = r && is_final(r->status);
      if (!ended_in_memory) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_REQUIRE_MESSAGE(ended_in_memory, "the cancelled witness did not end while the disk was full");
    // wait() reports an end only once it is stored.
    auto early = eng.wait(*witness, std::chrono::milliseconds(100));
    if (early) {
      std::lock_guard lock(mu);
      for (const auto& l : logged) BOOST_TEST_MESSAGE(l);
    }
    BOOST_REQUIRE(!early);
    BOOST_TEST(early.error().code == codes::timeout);
    // Nothing past what was stored reached a subscriber, though events were made.
    BOOST_TEST(eng.stats().durable_seq == stored_upto);
    BOOST_TEST(eng.stats().durable_seq < eng.stats().seq);
    {
      std::lock_guard lock(mu);
      BOOST_TEST(last_published <= stored_upto);
      BOOST_TEST(published_ends.count(*witness) == 0u, "the witness's end was published before it was stored");
    }

    fs::remove(disk.dir / "fill");
    for (const auto& id : ids) {
      auto r = eng.wait(id, std::chrono::seconds(60));
      BOOST_REQUIRE(r);
      BOOST_TEST(to_string(r->status) == std::string("completed"));
    }
    auto cancelled = eng.wait(*witness, std::chrono::seconds(60));
    BOOST_REQUIRE(cancelled);
    BOOST_TEST(to_string(cancelled->status) == std::string("cancelled"));
    BOOST_TEST(eng.stats().store_writable);
    auto after = eng.run(waits_chain(9999, 1));  // no restart needed
    BOOST_REQUIRE(after);
    BOOST_TEST((*after)["status"] == "completed");
    ids.push_back((*after)["id"].get<std::string>());
  }
  auto stored = stored_runs(db);
  for (const auto& id : ids) BOOST_TEST(stored[id] == "completed", id);
  BOOST_TEST(stored[witness_id] == "cancelled");
  for (const auto& id : published) BOOST_TEST(stored.count(id) == 1u, id);
  int failing = 0, recovered = 0;
  for (const auto& l : logged) {
    failing += l.find("the store cannot write") != std::string::npos;
    recovered += l.find("the store writes again") != std::string::npos;
  }
  BOOST_TEST(failing == 1);  // said once, not once per batch
  BOOST_TEST(recovered == 1);
}

BOOST_AUTO_TEST_SUITE_END()

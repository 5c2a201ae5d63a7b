// Prints a run tree from events as it grows: one line per start and end, indented by nesting.
#pragma once

#include <mutex>
#include <ostream>
#include <string>
#include <unordered_map>

#include "coworker/event.hpp"

namespace coworker::cli {

class tree_printer {
 public:
  tree_printer(std::ostream& out, bool color) : out_(out), color_(color) {}
  void on_event(const event& e);
  void summary(const run_record& root);

 private:
  std::string label(const run_record& r) const;
  std::ostream& out_;
  bool color_;
  std::mutex mu_;
  std::unordered_map<std::string, int> depth_;
};

/// A one-line view of a JSON value, cut to `max` characters.
std::string short_json(const json& v, std::size_t max = 80);

}  // namespace coworker::cli

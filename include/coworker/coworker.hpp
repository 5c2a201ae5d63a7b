// coworker: the only include an embedding program needs.
#pragma once

#include "coworker/engine.hpp"
#include "coworker/error.hpp"
#include "coworker/event.hpp"
#include "coworker/json.hpp"
#include "coworker/limits.hpp"
#include "coworker/operation.hpp"
#include "coworker/run_record.hpp"

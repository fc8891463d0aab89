// The JSON bodies with a fixed meaning: HELLO (versions, capabilities, limits), ERROR
// ({code, message} with pgbr::ErrorCode numbers) and GOAWAY. Plain value code, any thread.
#pragma once

#include "common/error.h"
#include "protocol/limits.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pgbr::protocol {

// Protocol versions this build speaks, highest last.
constexpr uint32_t kProtocolVersion = 1;

struct Hello {
  std::vector<uint32_t> versions{kProtocolVersion};
  std::string software;                   // "pgbr 0.1.0"
  std::vector<std::string> capabilities;  // optional features; none are defined in version 1
  Limits limits;                          // the receive limits of the side that sends it
};

nlohmann::json encodeHello(const Hello& hello);
// Throws Error(Protocol) for a missing or mistyped field or a limit outside the accepted range.
Hello decodeHello(const nlohmann::json& body);
// The highest version both sides speak; throws Error(Protocol) naming both lists when none.
uint32_t negotiateVersion(const Hello& local, const Hello& peer);

nlohmann::json encodeError(ErrorCode code, std::string_view message);
nlohmann::json encodeError(const Error& error);
// The peer's error as a pgbr::Error: its code (Unknown for a number this build does not
// know) and "<context>: <peer's message>". A malformed body is itself Error(Protocol).
Error decodeError(const nlohmann::json& body, std::string_view context);

struct GoAway {
  uint32_t lastChannel = 0;  // highest channel id the sender has accepted and will finish
  std::string message;
};
nlohmann::json encodeGoAway(const GoAway& goAway);
GoAway decodeGoAway(const nlohmann::json& body);

}  // namespace pgbr::protocol

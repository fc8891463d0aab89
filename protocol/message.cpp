#include "protocol/message.h"

#include <algorithm>

namespace pgbr::protocol {
namespace {

template <typename T>
T field(const nlohmann::json& body, const char* name, std::string_view what) {
  auto it = body.find(name);
  if (it == body.end()) fail(ErrorCode::Protocol, "{} has no '{}' field", what, name);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(ErrorCode::Protocol, "{} has a '{}' field of the wrong type", what, name);
  }
}

uint32_t limitField(const nlohmann::json& limits, const char* name, uint64_t min, uint64_t max) {
  auto value = field<uint64_t>(limits, name, "HELLO limits");
  if (value < min || value > max)
    fail(ErrorCode::Protocol, "HELLO limit '{}' is {}, outside the accepted range {}..{}", name, value, min, max);
  return static_cast<uint32_t>(value);
}

}  // namespace

nlohmann::json encodeHello(const Hello& hello) {
  const auto& l = hello.limits;
  return {{"versions", hello.versions},
          {"software", hello.software},
          {"capabilities", hello.capabilities},
          {"limits",
           {{"maxFramePayload", l.maxFramePayload},
            {"maxJsonSize", l.maxJsonSize},
            {"maxJsonDepth", l.maxJsonDepth},
            {"maxChannels", l.maxChannels},
            {"channelWindow", l.channelWindow},
            {"connectionWindow", l.connectionWindow},
            {"idleTimeoutMs", l.idleTimeout.count()}}}};
}

Hello decodeHello(const nlohmann::json& body) {
  Hello hello;
  hello.versions = field<std::vector<uint32_t>>(body, "versions", "HELLO");
  if (hello.versions.empty()) fail(ErrorCode::Protocol, "HELLO lists no protocol version");
  hello.software = field<std::string>(body, "software", "HELLO");
  hello.capabilities = field<std::vector<std::string>>(body, "capabilities", "HELLO");
  auto limits = field<nlohmann::json>(body, "limits", "HELLO");
  if (!limits.is_object()) fail(ErrorCode::Protocol, "HELLO 'limits' is not an object");
  auto& l = hello.limits;
  l.maxFramePayload = limitField(limits, "maxFramePayload", kMinFramePayload, kMaxFramePayload);
  l.maxJsonSize = limitField(limits, "maxJsonSize", kMinFramePayload, kMaxFramePayload);
  l.maxJsonDepth = limitField(limits, "maxJsonDepth", 8, 1024);
  l.maxChannels = limitField(limits, "maxChannels", 1, 1u << 20);
  l.channelWindow = limitField(limits, "channelWindow", kMinFramePayload, kMaxWindow);
  l.connectionWindow = limitField(limits, "connectionWindow", kMinFramePayload, kMaxWindow);
  l.idleTimeout = std::chrono::milliseconds(limitField(limits, "idleTimeoutMs", 100, 24u * 3600 * 1000));
  return hello;
}

uint32_t negotiateVersion(const Hello& local, const Hello& peer) {
  uint32_t best = 0;
  for (auto v : local.versions)
    if (std::find(peer.versions.begin(), peer.versions.end(), v) != peer.versions.end()) best = std::max(best, v);
  if (best == 0)
    fail(ErrorCode::Protocol, "no common protocol version: this side speaks {}, the peer ({}) speaks {}",
         nlohmann::json(local.versions).dump(), peer.software, nlohmann::json(peer.versions).dump());
  return best;
}

nlohmann::json encodeError(ErrorCode code, std::string_view message) {
  return {{"code", static_cast<int>(code)}, {"message", message}};
}

nlohmann::json encodeError(const Error& error) { return encodeError(error.code(), error.what()); }

Error decodeError(const nlohmann::json& body, std::string_view context) {
  auto number = field<int>(body, "code", "ERROR");
  auto message = field<std::string>(body, "message", "ERROR");
  return Error(errorCodeFromNumber(number).value_or(ErrorCode::Unknown), fmt::format("{}: {}", context, message));
}

nlohmann::json encodeGoAway(const GoAway& goAway) {
  return {{"lastChannel", goAway.lastChannel}, {"message", goAway.message}};
}

GoAway decodeGoAway(const nlohmann::json& body) {
  return {.lastChannel = field<uint32_t>(body, "lastChannel", "GOAWAY"),
          .message = field<std::string>(body, "message", "GOAWAY")};
}

}  // namespace pgbr::protocol

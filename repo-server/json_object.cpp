#include "repo-server/json_object.h"

#include "common/error.h"

#include <fmt/format.h>

#include <chrono>

namespace pgbr::repo {

std::optional<nlohmann::json> readJsonObject(Storage& storage, std::string_view path) {
  auto bytes = storage.readIfExists(path);
  if (!bytes) return std::nullopt;
  auto object = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (object.is_discarded() || !object.is_object())
    fail(ErrorCode::Corrupt, "{} is not a JSON object: the file is damaged (restore it from a copy)",
         storage.describe(path));
  return object;
}

std::vector<uint8_t> jsonBytes(const nlohmann::json& object) {
  std::string text = object.dump();
  text += '\n';
  return {text.begin(), text.end()};
}

template <typename T>
T jsonField(const nlohmann::json& object, std::string_view key, std::string_view what) {
  auto it = object.find(key);
  if (it == object.end()) fail(ErrorCode::Corrupt, "{} lacks the field \"{}\"", what, key);
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(ErrorCode::Corrupt, "{} has a field \"{}\" of the wrong type", what, key);
  }
}

template std::string jsonField<std::string>(const nlohmann::json&, std::string_view, std::string_view);
template int64_t jsonField<int64_t>(const nlohmann::json&, std::string_view, std::string_view);
template uint64_t jsonField<uint64_t>(const nlohmann::json&, std::string_view, std::string_view);
template uint32_t jsonField<uint32_t>(const nlohmann::json&, std::string_view, std::string_view);

std::string utcTimestamp(std::time_t time) {
  std::tm tm{};
  ::gmtime_r(&time, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string utcTimestampNow() {
  return utcTimestamp(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
}

}  // namespace pgbr::repo

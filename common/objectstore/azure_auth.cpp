#include "common/objectstore/azure_auth.h"

#include "common/error.h"
#include "common/filter/crypto.h"
#include "common/objectstore/encoding.h"
#include "common/text.h"

#include <algorithm>
#include <map>

namespace pgbr::objectstore {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::string azureStringToSign(const AzureSignRequest& request) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) headers[lower(name)] = std::string(trim(value));
  auto standard = [&](const char* name) {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  };
  std::string out = request.method + "\n";
  out += standard("content-encoding") + "\n";
  out += standard("content-language") + "\n";
  out += (request.contentLength == 0 ? std::string() : std::to_string(request.contentLength)) + "\n";
  out += standard("content-md5") + "\n";
  out += standard("content-type") + "\n";
  out += standard("date") + "\n";
  out += standard("if-modified-since") + "\n";
  out += standard("if-match") + "\n";
  out += standard("if-none-match") + "\n";
  out += standard("if-unmodified-since") + "\n";
  out += standard("range") + "\n";
  for (const auto& [name, value] : headers)
    if (name.starts_with("x-ms-")) out += name + ":" + value + "\n";
  out += "/" + request.account + request.path;
  std::map<std::string, std::vector<std::string>> query;
  for (const auto& [name, value] : request.query) query[lower(name)].push_back(value);
  for (auto& [name, values] : query) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":" + join(values, ",");
  }
  return out;
}

std::string azureAuthorization(const AzureSignRequest& request, std::string_view base64Key) {
  auto key = base64Decode(base64Key);
  if (!key || key->empty())
    fail(ErrorCode::OptionInvalidValue, "the Azure shared key of account '{}' is not base64", request.account);
  auto mac = hmacSha256(*key, bytesOf(azureStringToSign(request)));
  wipe(*key);
  return "SharedKey " + request.account + ":" + base64Encode(mac);
}

}  // namespace pgbr::objectstore

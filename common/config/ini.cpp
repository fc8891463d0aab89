#include "common/config/ini.h"

#include "common/error.h"
#include "common/text.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace pgbr {

IniFile parseIni(std::string_view text, const std::string& fileName) {
  IniFile ini;
  std::string section;
  int lineNumber = 0;
  for (const std::string& raw : split(text, '\n')) {
    ++lineNumber;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    IniLocation where{fileName, lineNumber};
    if (line.front() == '[') {
      if (line.back() != ']' || trim(line.substr(1, line.size() - 2)).empty())
        fail(ErrorCode::ConfigInvalid,
             "{}:{}: malformed section header '{}': expected [global], [<stanza>] or "
             "[<section>:<command>]",
             fileName, lineNumber, line);
      section = std::string(trim(line.substr(1, line.size() - 2)));
      ini.sections.push_back({section, where});
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || trim(line.substr(0, eq)).empty())
      fail(ErrorCode::ConfigInvalid,
           "{}:{}: malformed line '{}': expected <option>=<value>, a [section] header or a "
           "# comment",
           fileName, lineNumber, line);
    if (section.empty())
      fail(ErrorCode::ConfigInvalid,
           "{}:{}: '{}' is outside any section: put options under [global] or a "
           "[<stanza>] header",
           fileName, lineNumber, line);
    ini.entries.push_back(
        {section, std::string(trim(line.substr(0, eq))), std::string(trim(line.substr(eq + 1))), where});
  }
  return ini;
}

IniFile readIni(const std::filesystem::path& path) {
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "re"));
  if (!file)
    fail(ErrorCode::ConfigInvalid, "cannot open configuration file '{}': {}", path.string(), std::strerror(errno));
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get()))
    fail(ErrorCode::ConfigInvalid, "cannot read configuration file '{}': {}", path.string(), std::strerror(errno));
  return parseIni(text, path.string());
}

}  // namespace pgbr

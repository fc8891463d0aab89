// Reading configuration files in pgBackRest's INI dialect: `[section]` headers, `key=value`
// lines (whitespace around key and value is dropped), `#` comments on lines of their own, and
// blank lines. The reader knows nothing of options: it reports every header and entry with its
// file and line, and the parser decides what they mean.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

struct IniLocation {
  std::string file;
  int line = 0;
};

struct IniSection {
  std::string name;  // between the brackets, trimmed: "global", "main:backup"
  IniLocation where;
};

struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  IniLocation where;
};

struct IniFile {
  std::vector<IniSection> sections;
  std::vector<IniEntry> entries;  // in file order
};

// Throws Error(ConfigInvalid) naming the file and line of a malformed line or of an entry
// outside any section.
IniFile parseIni(std::string_view text, const std::string& fileName);

// Reads and parses a file; throws Error(ConfigInvalid) when it cannot be read.
IniFile readIni(const std::filesystem::path& path);

}  // namespace pgbr

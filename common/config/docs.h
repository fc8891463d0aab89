// The reference pages in docs/ that are generated rather than written: the configuration
// reference and the command reference from the option and command tables, and the exit codes
// from the error table in common/error.h. pgbr-docgen writes them; docs_test fails when a
// committed page differs from what the tables generate.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pgbr {

std::string configurationDoc();  // docs/configuration.md
std::string commandsDoc();       // docs/commands.md
std::string exitCodesDoc();      // docs/exit-codes.md

struct GeneratedDoc {
  std::string_view fileName;  // relative to docs/
  std::string (*generate)();
};
// Every generated page.
std::span<const GeneratedDoc> generatedDocs();

}  // namespace pgbr

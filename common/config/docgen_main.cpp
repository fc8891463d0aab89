// pgbr-docgen: writes the generated reference pages (docs/configuration.md, docs/commands.md,
// docs/exit-codes.md) into the directory given as its argument.
#include "common/config/docs.h"
#include "common/error.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: pgbr-docgen <docs-directory>\n"
                 "writes the pages generated from the option, command and error tables\n";
    return static_cast<int>(pgbr::ErrorCode::CommandInvalid);
  }
  std::filesystem::path dir = argv[1];
  for (const auto& doc : pgbr::generatedDocs()) {
    std::filesystem::path path = dir / doc.fileName;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << doc.generate();
    out.close();
    if (!out) {
      std::cerr << "pgbr-docgen: cannot write " << path.string() << "\n";
      return static_cast<int>(pgbr::ErrorCode::FileWrite);
    }
    std::cout << "wrote " << path.string() << "\n";
  }
  return 0;
}

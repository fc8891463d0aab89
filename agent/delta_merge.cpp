#include "agent/delta_merge.h"

#include "common/log.h"
#include "common/manifest/manifest.h"

namespace pgbr::agent {

namespace {

std::string_view typeName(LocalType type) {
  switch (type) {
    case LocalType::File:
      return "file";
    case LocalType::Directory:
      return "directory";
    case LocalType::Link:
      return "link";
    case LocalType::Other:
      break;
  }
  return "special file";
}

}  // namespace

DeltaMerge::DeltaMerge(RestoreTree& tree, std::string versionPrefix)
    : tree_(tree), walker_(tree.openRoot()), versionPrefix_(std::move(versionPrefix)) {}

bool DeltaMerge::keep(const LocalEntry& entry) const {
  auto slash = entry.path.rfind('/');
  if (slash == std::string::npos) return false;
  std::string_view parent(entry.path.data(), slash);
  std::string_view name = std::string_view(entry.path).substr(slash + 1);
  return tablespaceLinks_.contains(parent) && !name.starts_with(versionPrefix_);
}

std::optional<LocalEntry> DeltaMerge::match(std::string_view path) {
  while (const LocalEntry* local = walker_.peek()) {
    if (local->path == path) {
      LocalEntry found = *local;
      walker_.consume();
      return found;
    }
    if (!manifestPathLess(local->path, path)) break;
    LocalEntry stray = *local;
    walker_.consume();
    if (keep(stray)) {
      logDetail("kept {}: not this PostgreSQL version's part of the tablespace", tree_.describe(stray.path));
      continue;
    }
    remove(stray);
  }
  return std::nullopt;
}

void DeltaMerge::remove(const LocalEntry& entry) {
  tree_.remove(entry.path);
  ++removed_;
  logDetail("removed {} {}: not in the backup as such", typeName(entry.type), tree_.describe(entry.path));
}

void DeltaMerge::enter(const std::string& path) { walker_.enter(path, tree_.openDirectory(path)); }

void DeltaMerge::enterTablespace(const std::string& linkPath) {
  tablespaceLinks_.insert(linkPath);
  walker_.enter(linkPath, tree_.openTablespaceDirectory(linkPath));
}

void DeltaMerge::finish() {
  while (const LocalEntry* local = walker_.peek()) {
    LocalEntry stray = *local;
    walker_.consume();
    if (keep(stray))
      logDetail("kept {}: not this PostgreSQL version's part of the tablespace", tree_.describe(stray.path));
    else
      remove(stray);
  }
}

}  // namespace pgbr::agent

#include "agent/delta_walker.h"

#include "agent/restore_tree.h"
#include "common/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace pgbr::agent {

DeltaWalker::DeltaWalker(UniqueFd root) { enter("", std::move(root)); }

void DeltaWalker::enter(std::string path, UniqueFd dir) {
  // An entry peeked but not consumed sorts after everything below path: put it back, to come again
  // once path's entries are done.
  if (current_) {
    current_.reset();
    --stack_.back().next;
  }
  Frame frame;
  frame.prefix = path.empty() ? std::string() : path + "/";
  frame.names = listDirectory(dir.get(), path.empty() ? std::string("the data directory") : path);
  // Siblings differ in their last component only, so byte order is manifest order.
  std::sort(frame.names.begin(), frame.names.end());
  frame.dir = std::move(dir);
  stack_.push_back(std::move(frame));
}

const LocalEntry* DeltaWalker::peek() {
  while (!current_ && !stack_.empty()) {
    Frame& frame = stack_.back();
    if (frame.next == frame.names.size()) {
      stack_.pop_back();
      continue;
    }
    const std::string& name = frame.names[frame.next++];
    struct stat st {};
    if (::fstatat(frame.dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // gone since the listing
      failErrno(ErrorCode::FileOpen, "cannot look at", frame.prefix + name, errno);
    }
    LocalEntry entry;
    entry.path = frame.prefix + name;
    entry.size = static_cast<uint64_t>(st.st_size);
    entry.mtime = st.st_mtim.tv_sec;
    entry.links = st.st_nlink;
    if (S_ISREG(st.st_mode)) {
      entry.type = LocalType::File;
    } else if (S_ISDIR(st.st_mode)) {
      entry.type = LocalType::Directory;
    } else if (S_ISLNK(st.st_mode)) {
      entry.type = LocalType::Link;
      std::vector<char> buffer(static_cast<size_t>(std::max<off_t>(st.st_size, 255)) + 1);
      ssize_t n = ::readlinkat(frame.dir.get(), name.c_str(), buffer.data(), buffer.size());
      if (n < 0) failErrno(ErrorCode::FileOpen, "cannot read the link", entry.path, errno);
      entry.target.assign(buffer.data(), static_cast<size_t>(n));
    } else {
      entry.type = LocalType::Other;
    }
    current_ = std::move(entry);
  }
  return current_ ? &*current_ : nullptr;
}

void DeltaWalker::consume() { current_.reset(); }

}  // namespace pgbr::agent

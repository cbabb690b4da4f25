// A fixture tree built at run time in a fresh directory under /tmp, removed by the
// destructor: fake /proc entries, cgroup directories, passwd files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace ork::sense::testing {

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/ork-sense-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (dir == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    root_ = dir;
  }
  ~TempTree() {
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(std::string_view rel) const { return root_ + "/" + std::string(rel); }

  // Writes rel (creating its parent directories), truncating in place so that a file
  // kept open by the code under test sees the new content.
  void write(std::string_view rel, std::string_view content) const {
    std::string p = path(rel);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) ADD_FAILURE() << "cannot write " << p;
  }
  void mkdir(std::string_view rel) const { std::filesystem::create_directories(path(rel)); }
  void symlink(std::string_view target, std::string_view rel) const {
    std::string p = path(rel);
    std::error_code ec;
    std::filesystem::remove(p, ec);
    if (::symlink(std::string(target).c_str(), p.c_str()) != 0) ADD_FAILURE() << "symlink " << p;
  }
  void remove(std::string_view rel) const {
    std::error_code ec;
    std::filesystem::remove_all(path(rel), ec);
  }

 private:
  std::string root_;
};

}  // namespace ork::sense::testing

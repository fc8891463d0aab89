// pgbr-bench-report: turns scripts/bench's raw measurements into its tables.
//
//   pgbr-bench-report RESULTS-DIR
//   pgbr-bench-report --check RESULTS-DIR
//
// Reads RESULTS-DIR/raw.jsonl (one measurement a line, written by scripts/bench) and
// RESULTS-DIR/machine.json, writes RESULTS-DIR/summary.json and RESULTS-DIR/report.md, and
// prints the markdown. Per data set: a time table and a size table with the ratios
// pgbr/pgBackRest and pgbr/limit, and a resource table per tool; then the targets,
// each met, missed or not measurable yet. docs/benchmarks.md says what each column means.
//
// --check reads the summary.json written before and fails (exit 1, naming what is missing) unless
// every data set has a full backup time for both pgbr and pgBackRest: the smoke test's assertion
// that one run really measured both tools.
//
// Ratios are paired: for each repetition, pgbr's figure is divided by the other tool's (or the
// limit's) figure of the same repetition — they ran back to back, so machine noise hits both
// alike — and the table shows the median of those per-repetition ratios.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using nlohmann::json;

namespace {

const std::vector<std::string> kTools = {"pgbr", "pgbackrest", "pgbackrest-tls"};
const std::vector<std::string> kOps = {"full", "restore", "delta-restore", "incr", "diff", "archive-push",
                                       "archive-get"};

std::string str(const json& j, const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; }
std::optional<double> num(const json& j, const char* k) {
  if (j.contains(k) && j[k].is_number()) return j[k].get<double>();
  return std::nullopt;
}

struct Rec {
  json j;
  std::string dataset, op, mode, tool, variant, status, note;
  std::string compress;
  int level = 0, pm = 0, rep = 0;
  bool cipher = false;
  std::optional<double> wall, stored;
  double segments = 0;

  std::string setting() const {
    std::string s;
    if (op == "incr" || op == "diff" || op == "delta-restore" || op == "restore" || op == "full" ||
        op.starts_with("archive"))
      s = compress + "-" + std::to_string(level) + " pm" + std::to_string(pm);
    if (cipher) s += " aes";
    if (segments > 0) s = std::to_string(static_cast<int>(segments)) + " segs, " + s;
    return s;
  }
  std::string row() const { return op + (mode.empty() ? "" : " " + mode); }
  // Client + server tree figures from pgbr-bench-run's JSON.
  double cpu() const {
    double c = 0;
    const json& r = j["run"];
    for (const char* side : {"client", "server"})
      if (r.contains(side)) c += r[side].value("cpu", 0.0);
    return c;
  }
  std::optional<double> peak(const char* side) const {
    const json& r = j["run"];
    if (!r.contains(side)) return std::nullopt;
    return r[side].value("peak_rss", 0.0);
  }
  double readBytes() const {
    double b = 0;
    const json& r = j["run"];
    for (const char* side : {"client", "server"})
      if (r.contains(side)) b += r[side].value("read_bytes", 0.0);
    return b;
  }
  // Bytes over the loopback connections to the server (both directions); not for the archive
  // commands, whose connection per segment is too short for the sampling to see whole.
  std::optional<double> network() const {
    const json& r = j["run"];
    if (op.starts_with("archive") || !r.contains("network")) return std::nullopt;
    return r["network"].value("bytes", 0.0);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmtNum(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}
std::string fmtSeconds(double s) { return s < 10 ? fmtNum(s, 2) : s < 100 ? fmtNum(s, 1) : fmtNum(s, 0); }
std::string fmtBytes(double b) {
  if (b >= 1e9) return fmtNum(b / 1e9, 2) + " GB";
  if (b >= 1e6) return fmtNum(b / 1e6, b >= 1e8 ? 0 : 1) + " MB";
  if (b >= 1e3) return fmtNum(b / 1e3, 0) + " kB";
  return fmtNum(b, 0) + " B";
}
std::string fmtMiB(double b) { return fmtNum(b / 1048576.0, 0) + " MiB"; }
std::string fmtRatio(double r) { return fmtNum(r, r < 10 ? 2 : 1) + "×"; }

struct Cell {
  std::vector<const Rec*> ok;
  std::vector<const Rec*> all;
  std::string status() const {
    if (!ok.empty()) return "ok";
    for (auto* r : all)
      if (r->status == "fail") return "fail";
    return all.empty() ? "" : "na";
  }
  std::string note() const {
    for (auto* r : all)
      if (!r->note.empty()) return r->note;
    return "";
  }
  std::optional<double> med(std::optional<double> Rec::*field) const {
    std::vector<double> v;
    for (auto* r : ok)
      if ((r->*field)) v.push_back(*(r->*field));
    if (v.empty()) return std::nullopt;
    return median(v);
  }
  std::string timeText() const {
    std::string st = status();
    if (st == "fail") return "failed";
    if (st == "na") return "n/a (not implemented)";
    if (st.empty()) return "—";
    std::vector<double> v;
    for (auto* r : ok)
      if (r->wall) v.push_back(*r->wall);
    if (v.empty()) return "—";
    double m = median(v);
    std::string s = fmtSeconds(m) + " s";
    if (v.size() > 1) {
      auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      s += " ±" + fmtNum(m > 0 ? (*hi - *lo) / 2 / m * 100 : 0, 0) + "%";
    }
    // Runs that failed are left out of the median, and said so.
    size_t failed = 0;
    for (auto* r : all) failed += r->status == "fail" ? 1 : 0;
    if (failed > 0) s += " (" + std::to_string(failed) + " of " + std::to_string(all.size()) + " runs failed)";
    return s;
  }
};

// Median over repetitions of a(rep) / b(rep), pairing records of the same repetition.
std::optional<double> pairedRatio(const Cell& a, const Cell& b, std::optional<double> Rec::*field) {
  std::vector<double> v;
  for (auto* x : a.ok)
    for (auto* y : b.ok)
      if (x->rep == y->rep && (x->*field) && (y->*field) && *(y->*field) > 0) v.push_back(*(x->*field) / *(y->*field));
  if (v.empty()) {
    // Limits measured once per run (or in other repetitions): ratio of medians.
    auto ma = a.med(field), mb = b.med(field);
    if (ma && mb && *mb > 0) return *ma / *mb;
    return std::nullopt;
  }
  return median(v);
}

std::string ratioText(std::optional<double> r) { return r ? fmtRatio(*r) : "—"; }

// A markdown table cell: a '|' inside (tar | zstd) would split it.
std::string esc(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

struct Row {
  std::string op, setting;
  std::map<std::string, Cell> tools;  // tool -> cell
  Cell limit;
  std::string limitVariant;
};

std::string opLabel(const Row& row) {
  static const std::map<std::string, std::string> names = {
      {"full", "full backup"},
      {"restore", "restore, empty directory"},
      {"delta-restore", "delta restore, 1% changed"},
      {"incr", "incr after pgbench"},
      {"diff", "diff after more pgbench"},
      {"archive-push sync", "archive-push, one at a time"},
      {"archive-push async", "archive-push, async"},
      {"archive-get sync", "archive-get, one at a time"},
      {"archive-get async", "archive-get, async (prefetch)"}};
  auto it = names.find(row.op);
  return it == names.end() ? row.op : it->second;
}

int check(const std::string& dir) {
  std::ifstream in(dir + "/summary.json");
  json summary = in ? json::parse(in, nullptr, false) : json();
  if (!summary.is_object() || !summary.contains("datasets") || summary["datasets"].empty()) {
    std::fprintf(stderr, "pgbr-bench-report: %s/summary.json is missing, unreadable or has no data set\n", dir.c_str());
    return 1;
  }
  int missing = 0;
  for (auto& [ds, rows] : summary["datasets"].items()) {
    bool both = false;
    for (auto& row : rows)
      if (row.value("operation", "") == "full" && row["pgbr"]["wall_median"].is_number() &&
          row["pgbackrest"]["wall_median"].is_number() && row["pgbr"]["wall_median"].get<double>() > 0 &&
          row["pgbackrest"]["wall_median"].get<double>() > 0)
        both = true;
    if (!both) {
      std::fprintf(stderr, "pgbr-bench-report: data set %s has no full backup timed for both pgbr and pgBackRest\n",
                   ds.c_str());
      ++missing;
    } else {
      std::printf("pgbr-bench-report: data set %s: full backup timed for pgbr and pgBackRest\n", ds.c_str());
    }
  }
  return missing ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--check") return check(argv[2]);
  if (argc != 2) {
    std::fprintf(stderr, "usage: pgbr-bench-report [--check] RESULTS-DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  json machine = json::object();
  {
    std::ifstream m(dir + "/machine.json");
    if (m) machine = json::parse(m, nullptr, false);
    if (machine.is_discarded()) machine = json::object();
  }
  std::vector<Rec> recs;
  {
    std::ifstream in(dir + "/raw.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        std::fprintf(stderr, "pgbr-bench-report: skipping a malformed line of raw.jsonl\n");
        continue;
      }
      Rec r;
      r.dataset = str(j, "dataset");
      r.op = str(j, "op");
      r.mode = str(j, "mode");
      r.tool = str(j, "tool");
      r.variant = str(j, "variant");
      r.status = str(j, "status");
      r.note = str(j, "note");
      r.compress = str(j, "compress");
      r.level = j.value("level", 0);
      r.pm = j.value("pm", 0);
      r.rep = j.value("rep", 0);
      r.cipher = str(j, "cipher") == "aes";
      r.segments = j.value("segments", 0.0);
      if (!j.contains("run") || !j["run"].is_object()) j["run"] = json::object();
      r.wall = num(j["run"], "wall");
      if (r.tool == "limit" && num(j, "wall")) r.wall = num(j, "wall");
      r.stored = num(j, "stored");
      r.j = std::move(j);
      recs.push_back(std::move(r));
    }
  }

  std::ostringstream md;
  json summary = {{"machine", machine}, {"datasets", json::object()}};
  std::vector<std::string> datasets;
  for (auto& r : recs)
    if (std::find(datasets.begin(), datasets.end(), r.dataset) == datasets.end()) datasets.push_back(r.dataset);

  md << "# pgbr benchmark";
  if (machine.contains("date")) md << " — " << machine["date"].get<std::string>();
  md << "\n\n";
  if (machine.contains("command")) md << "Command: `" << machine["command"].get<std::string>() << "`\n\n";

  // Figures the targets section reads: dataset -> key -> value.
  std::map<std::string, std::map<std::string, std::optional<double>>> facts;
  double agentPeak = 0, serverPeak = 0;

  for (auto& ds : datasets) {
    std::vector<Row> rows;
    auto rowFor = [&](const std::string& op, const std::string& setting) -> Row& {
      for (auto& row : rows)
        if (row.op == op && row.setting == setting) return row;
      rows.push_back(Row{op, setting, {}, {}, {}});
      return rows.back();
    };
    for (auto& opName : kOps)
      for (auto& r : recs)
        if (r.dataset == ds && r.op == opName && r.tool != "limit") {
          Cell& c = rowFor(r.row(), r.setting()).tools[r.tool];
          c.all.push_back(&r);
          if (r.status == "ok") c.ok.push_back(&r);
        }
    // Rows by operation, then by setting in the order the run was given them (--settings).
    std::vector<std::string> settingOrder;
    if (machine.contains("run") && machine["run"].contains("settings") && machine["run"]["settings"].is_string()) {
      std::istringstream in(machine["run"]["settings"].get<std::string>());
      std::string one;
      while (std::getline(in, one, ',')) {
        // zstd-3-pm2-aes is shown as "zstd-3 pm2 aes".
        size_t pm = one.find("-pm");
        if (pm != std::string::npos) one[pm] = ' ';
        size_t aes = one.find("-aes");
        if (aes != std::string::npos) one[aes] = ' ';
        settingOrder.push_back(one);
      }
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      auto rank = [](const std::string& op) {
        for (size_t i = 0; i < kOps.size(); ++i)
          if (op.starts_with(kOps[i]) && (op.size() == kOps[i].size() || op[kOps[i].size()] == ' '))
            return i * 2 + (op.ends_with("async") ? 1 : 0);
        return kOps.size() * 2;
      };
      auto settingRank = [&](const std::string& setting) {
        for (size_t i = 0; i < settingOrder.size(); ++i)
          if (setting == settingOrder[i] || setting.ends_with(", " + settingOrder[i])) return i;
        return settingOrder.size();
      };
      if (rank(a.op) != rank(b.op)) return rank(a.op) < rank(b.op);
      return settingRank(a.setting) < settingRank(b.setting);
    });
    // Limits: matched by operation, compression and threads; any cipher, any archive mode.
    for (auto& row : rows) {
      for (auto& r : recs) {
        if (r.dataset != ds || r.tool != "limit") continue;
        const Rec* sample = nullptr;
        for (auto& [tool, c] : row.tools)
          if (!c.all.empty()) sample = c.all.front();
        if (!sample || r.op != sample->op) continue;
        bool match = (r.op == "incr" || r.op == "diff" || r.op == "delta-restore")
                         ? true
                         : r.compress == sample->compress && r.level == sample->level &&
                               (r.pm == 0 || r.pm == sample->pm || r.op == "restore" || r.op == "archive-get");
        if (!match) continue;
        row.limit.all.push_back(&r);
        if (r.status == "ok") row.limit.ok.push_back(&r);
        row.limitVariant = r.variant;
      }
    }

    json dsJson = json::array();
    md << "## Data set: " << ds;
    if (machine.contains("datasets") && machine["datasets"].contains(ds))
      md << " (" << machine["datasets"][ds].value("description", "") << ")";
    md << "\n\n### Time (median of the repetitions, ± half the range)\n\n";
    md << "| operation | settings | pgbr | pgBackRest | pgBackRest TLS | limit | pgbr/pgBackRest | pgbr/pgBackRest TLS | "
          "pgbr/limit |\n|---|---|---|---|---|---|---|---|---|\n";
    std::vector<std::string> notes;  // numbered [n] in the cells that carry them
    auto mark = [&](const Cell& c) -> std::string {
      std::string note = c.note();
      if (note.empty() || c.status() == "fail") return "";
      auto it = std::find(notes.begin(), notes.end(), note);
      if (it == notes.end()) it = notes.insert(notes.end(), note);
      return " [" + std::to_string(it - notes.begin() + 1) + "]";
    };
    for (auto& row : rows) {
      Cell& p = row.tools["pgbr"];
      Cell& b = row.tools["pgbackrest"];
      Cell& t = row.tools["pgbackrest-tls"];
      bool sizeLimit = row.op == "incr" || row.op == "diff";
      auto rb = pairedRatio(p, b, &Rec::wall), rt = pairedRatio(p, t, &Rec::wall);
      auto rl = sizeLimit ? std::optional<double>() : pairedRatio(p, row.limit, &Rec::wall);
      md << "| " << opLabel(row) << " | " << row.setting << " | " << p.timeText() << mark(p) << " | " << b.timeText()
         << " | " << t.timeText() << " | "
         << (sizeLimit ? "see sizes" : row.limit.ok.empty() ? "—" : row.limit.timeText() + " (" + esc(row.limitVariant) + ")")
         << " | " << ratioText(rb) << " | " << ratioText(rt) << " | " << ratioText(rl) << " |\n";
      json jr = {{"operation", row.op}, {"settings", row.setting}};
      for (auto& tool : kTools) {
        Cell& c = row.tools[tool];
        jr[tool] = {{"status", c.status()}, {"wall_median", c.med(&Rec::wall) ? json(*c.med(&Rec::wall)) : json()},
                    {"stored_median", c.med(&Rec::stored) ? json(*c.med(&Rec::stored)) : json()},
                    {"runs", c.all.size()}, {"note", c.note()}};
      }
      jr["limit"] = {{"variant", row.limitVariant},
                     {"wall_median", row.limit.med(&Rec::wall) ? json(*row.limit.med(&Rec::wall)) : json()},
                     {"stored_median", row.limit.med(&Rec::stored) ? json(*row.limit.med(&Rec::stored)) : json()}};
      auto put = [&](const char* k, std::optional<double> v) { jr[k] = v ? json(*v) : json(); };
      put("pgbr_over_pgbackrest", rb);
      put("pgbr_over_pgbackrest_tls", rt);
      put("pgbr_over_limit", rl);
      auto sb = pairedRatio(p, b, &Rec::stored);
      auto sl = pairedRatio(p, row.limit, &Rec::stored);
      put("stored_pgbr_over_pgbackrest", sb);
      put("stored_pgbr_over_limit", sl);
      dsJson.push_back(jr);

      std::string key = row.op + "|" + row.setting;
      facts[ds]["time_vs_pgbackrest|" + key] = rb;
      facts[ds]["time_vs_limit|" + key] = rl;
      facts[ds]["stored_vs_pgbackrest|" + key] = sb;
      facts[ds]["stored_vs_limit|" + key] = sl;
      facts[ds]["wall_pgbr|" + key] = p.med(&Rec::wall);
      facts[ds]["wall_pgbackrest|" + key] = b.med(&Rec::wall);
      facts[ds]["status_pgbr_na|" + key] = p.status() == "na" ? std::optional<double>(1) : std::nullopt;
    }
    if (!notes.empty()) md << "\n";
    for (size_t k = 0; k < notes.size(); ++k) md << "[" << k + 1 << "] pgbr: " << esc(notes[k]) << "  \n";

    md << "\n### Stored (repository growth; limit: the same data through the zstd or lz4 CLI)\n\n";
    md << "| operation | settings | pgbr | pgBackRest | pgBackRest TLS | limit | pgbr/pgBackRest | pgbr/limit |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (auto& row : rows) {
      if (!(row.op == "full" || row.op == "incr" || row.op == "diff" || row.op.starts_with("archive-push"))) continue;
      auto cellText = [](const Cell& c) {
        std::string st = c.status();
        if (st == "fail") return std::string("failed");
        if (st == "na") return std::string("n/a");
        auto m = c.med(&Rec::stored);
        return m ? fmtBytes(*m) : std::string("—");
      };
      auto lm = row.limit.med(&Rec::stored);
      std::string limitText = lm ? fmtBytes(*lm) + " (" + esc(row.limitVariant) + ")" : "—";
      md << "| " << opLabel(row) << " | " << row.setting << " | " << cellText(row.tools["pgbr"]) << " | "
         << cellText(row.tools["pgbackrest"]) << " | " << cellText(row.tools["pgbackrest-tls"]) << " | " << limitText
         << " | " << ratioText(pairedRatio(row.tools["pgbr"], row.tools["pgbackrest"], &Rec::stored)) << " | "
         << ratioText(pairedRatio(row.tools["pgbr"], row.limit, &Rec::stored)) << " |\n";
    }

    {
      // Every limit measured on this data set, with the data directory's throughput.
      double dsBytes = 0;
      if (machine.contains("datasets") && machine["datasets"].contains(ds))
        dsBytes = machine["datasets"][ds].value("bytes", 0.0);
      std::vector<std::pair<std::string, Cell>> limits;
      for (auto& r : recs) {
        if (r.dataset != ds || r.tool != "limit") continue;
        std::string name = r.op + ": " + r.variant;
        auto it = std::find_if(limits.begin(), limits.end(), [&](auto& l) { return l.first == name; });
        if (it == limits.end()) it = limits.insert(limits.end(), {name, Cell{}});
        it->second.all.push_back(&r);
        if (r.status == "ok") it->second.ok.push_back(&r);
      }
      md << "\n### Limits (the same data through standard tools)\n\n| limit | time | data directory MB/s | output |\n"
            "|---|---|---|---|\n";
      for (auto& [name, c] : limits) {
        auto w = c.med(&Rec::wall);
        auto st = c.med(&Rec::stored);
        bool wholeDir = name.starts_with("full: ") || name.starts_with("restore: ");
        md << "| " << esc(name) << " | " << (w ? c.timeText() : "—") << " | "
           << (w && *w > 0 && dsBytes > 0 && wholeDir ? fmtNum(dsBytes / 1e6 / *w, 0) : "—") << " | "
           << (st && *st > 0 ? fmtBytes(*st) : "—") << " |\n";
      }
    }

    md << "\n### Resources (medians; peak RSS is the largest of the repetitions)\n\n";
    md << "| operation | settings | tool | wall | CPU | CPU % | peak RSS client | peak RSS server | read | network |\n"
          "|---|---|---|---|---|---|---|---|---|---|\n";
    for (auto& row : rows) {
      for (auto& tool : kTools) {
        Cell& c = row.tools[tool];
        if (c.ok.empty()) continue;
        std::vector<double> cpu, rd, snt;
        double pc = 0, ps = 0;
        bool hasServer = false, hasSent = false;
        for (auto* r : c.ok) {
          cpu.push_back(r->cpu());
          rd.push_back(r->readBytes());
          if (auto s = r->network()) snt.push_back(*s), hasSent = true;
          pc = std::max(pc, r->peak("client").value_or(0));
          if (auto s = r->peak("server")) ps = std::max(ps, *s), hasServer = true;
        }
        double w = *c.med(&Rec::wall);
        double cm = median(cpu);
        if (tool == "pgbr") {
          agentPeak = std::max(agentPeak, pc);
          serverPeak = std::max(serverPeak, ps);
        }
        md << "| " << opLabel(row) << " | " << row.setting << " | " << tool << " | " << fmtSeconds(w) << " s | "
           << fmtSeconds(cm) << " s | " << fmtNum(w > 0 ? cm / w * 100 : 0, 0) << "% | " << fmtMiB(pc) << " | "
           << (hasServer ? fmtMiB(ps) : "—") << " | " << fmtBytes(median(rd)) << " | "
           << (hasSent ? fmtBytes(median(snt)) : "—") << " |\n";
      }
    }
    md << "\n";
    summary["datasets"][ds] = dsJson;
  }

  // Targets of the issue, judged on the first data set that has the figure (pgbench first).
  md << "## Targets\n\n| target | measured | |\n|---|---|---|\n";
  json targets = json::array();
  auto find = [&](const std::string& key) -> std::pair<std::optional<double>, std::string> {
    for (auto& ds : datasets) {
      auto it = facts[ds].find(key);
      if (it != facts[ds].end() && it->second) return {it->second, ds};
    }
    return {std::nullopt, ""};
  };
  auto naAnywhere = [&](const std::string& key) {
    for (auto& ds : datasets)
      if (facts[ds].count("status_pgbr_na|" + key) && facts[ds]["status_pgbr_na|" + key]) return true;
    return false;
  };
  // kind: "le" means measured <= bound passes; "ge" means measured >= bound passes.
  auto target = [&](const std::string& text, const std::string& key, bool invert, const char* kind, double bound,
                    const std::string& naKey) {
    auto [v, ds] = find(key);
    std::string measured, verdict;
    if (v && invert) v = *v > 0 ? std::optional<double>(1 / *v) : std::nullopt;
    if (!v) {
      verdict = naAnywhere(naKey) ? "n/a (not implemented)" : "not measured";
      measured = "—";
    } else {
      bool ok = std::string(kind) == "le" ? *v <= bound : *v >= bound;
      verdict = ok ? "met" : "missed";
      measured = fmtRatio(*v) + " (" + ds + ")";
    }
    md << "| " << esc(text) << " | " << measured << " | " << verdict << " |\n";
    targets.push_back({{"target", text}, {"measured", v ? json(*v) : json()}, {"dataset", ds}, {"verdict", verdict}});
  };
  const std::string primary = "zstd-3 pm2";
  target("full backup ≥ 1.25× pgBackRest's throughput (zstd-3, pm2)", "time_vs_pgbackrest|full|" + primary, true,
         "ge", 1.25, "full|" + primary);
  target("full backup ≥ 1.25× pgBackRest's throughput (zstd-3, pm1)", "time_vs_pgbackrest|full|zstd-3 pm1", true,
         "ge", 1.25, "full|zstd-3 pm1");
  target("full backup within 1.15× of tar | zstd -3 -T2", "time_vs_limit|full|" + primary, false, "le", 1.15,
         "full|" + primary);
  {
    // Encryption cost: pgbr aes / pgbr plain at zstd-3 pm2.
    auto [a, dsa] = find("wall_pgbr|full|" + primary + " aes");
    auto [p, dsp] = find("wall_pgbr|full|" + primary);
    std::optional<double> v;
    if (a && p && *p > 0 && dsa == dsp) v = *a / *p;
    std::string verdict = v ? (*v <= 1.05 ? "met" : "missed") : "not measured";
    md << "| encryption costs ≤ 5% (pgbr full, aes over plain) | " << (v ? fmtRatio(*v) + " (" + dsa + ")" : "—")
       << " | " << verdict << " |\n";
    targets.push_back({{"target", "encryption costs <= 5%"}, {"measured", v ? json(*v) : json()}, {"verdict", verdict}});
  }
  target("incr: repository growth within 1.25× of the changed pages' compressed size",
         "stored_vs_limit|incr|" + primary, false, "le", 1.25, "incr|" + primary);
  target("incr: ≥ 3× smaller than pgBackRest's", "stored_vs_pgbackrest|incr|" + primary, true, "ge", 3,
         "incr|" + primary);
  target("incr: ≥ 2× faster than pgBackRest's", "time_vs_pgbackrest|incr|" + primary, true, "ge", 2, "incr|" + primary);
  target("restore ≥ 1.5× pgBackRest", "time_vs_pgbackrest|restore|" + primary, true, "ge", 1.5, "restore|" + primary);
  target("delta restore ≥ 3× pgBackRest", "time_vs_pgbackrest|delta-restore|" + primary, true, "ge", 3,
         "delta-restore|" + primary);
  {
    // Archive settings carry the segment count; look the keys up by prefix.
    auto findPrefix = [&](const std::string& prefix, const std::string& suffix) {
      for (auto& ds : datasets)
        for (auto& [k, v] : facts[ds])
          if (k.starts_with(prefix) && k.ends_with(suffix) && v) return std::make_pair(v, ds);
      return std::make_pair(std::optional<double>(), std::string());
    };
    auto naPrefix = [&](const std::string& op) {
      for (auto& ds : datasets)
        for (auto& [k, v] : facts[ds])
          if (k.starts_with("status_pgbr_na|" + op) && v) return true;
      return false;
    };
    auto [push, dsPush] = findPrefix("time_vs_pgbackrest|archive-push async|", primary);
    std::optional<double> pushRate = push && *push > 0 ? std::optional<double>(1 / *push) : std::nullopt;
    std::string v1 = pushRate ? (*pushRate >= 2 ? "met" : "missed")
                              : (naPrefix("archive-push async") ? "n/a (not implemented)" : "not measured");
    md << "| archive-push async ≥ 2× pgBackRest's segments per second | "
       << (pushRate ? fmtRatio(*pushRate) + " (" + dsPush + ")" : "—") << " | " << v1 << " |\n";
    targets.push_back({{"target", "archive-push async >= 2x pgBackRest"},
                       {"measured", pushRate ? json(*pushRate) : json()}, {"verdict", v1}});
    auto [getAsync, dsA] = findPrefix("wall_pgbr|archive-get async|", "");
    auto [getSync, dsS] = findPrefix("wall_pgbr|archive-get sync|", "");
    std::optional<double> getRatio;
    if (getAsync && getSync && *getAsync > 0 && dsA == dsS) getRatio = *getSync / *getAsync;
    std::string v2 = getRatio ? (*getRatio >= 5 ? "met" : "missed")
                              : (naPrefix("archive-get async") ? "n/a (not implemented)" : "not measured");
    md << "| archive-get with prefetch ≥ 5× its one-call-at-a-time rate | "
       << (getRatio ? fmtRatio(*getRatio) + " (" + dsA + ")" : "—") << " | " << v2 << " |\n";
    targets.push_back({{"target", "archive-get async >= 5x sync"}, {"measured", getRatio ? json(*getRatio) : json()},
                       {"verdict", v2}});
  }
  {
    std::string verdict = agentPeak > 0 ? (agentPeak <= 64.0 * 1048576 ? "met" : "missed") : "not measured";
    md << "| agent peak RSS ≤ 64 MiB (largest of every pgbr run) | " << fmtMiB(agentPeak) << " | " << verdict << " |\n";
    md << "| server RSS bounded by its configuration (largest of every pgbr run) | " << fmtMiB(serverPeak)
       << " | see docs/benchmarks.md |\n";
    targets.push_back({{"target", "agent peak RSS <= 64 MiB"}, {"measured", agentPeak}, {"verdict", verdict}});
    targets.push_back({{"target", "server peak RSS"}, {"measured", serverPeak}, {"verdict", "reported"}});
  }
  summary["targets"] = targets;

  md << "\n## Machine and versions\n\n";
  for (auto& [k, v] : machine.items()) {
    if (k == "datasets") continue;
    if (v.is_string()) md << "- " << k << ": " << v.get<std::string>() << "\n";
    else if (v.is_object()) {
      md << "- " << k << ":";
      for (auto& [k2, v2] : v.items()) md << " " << k2 << " " << (v2.is_string() ? v2.get<std::string>() : v2.dump()) << ";";
      md << "\n";
    } else md << "- " << k << ": " << v.dump() << "\n";
  }

  std::ofstream(dir + "/report.md") << md.str();
  std::ofstream(dir + "/summary.json") << summary.dump(2) << "\n";
  std::cout << md.str();
  return 0;
}

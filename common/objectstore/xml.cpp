#include "common/objectstore/xml.h"

#include "common/error.h"

#include <cstdint>

namespace pgbr::objectstore {
namespace {

constexpr size_t kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  XmlElement document() {
    skipProlog();
    if (!peek("<")) bad("no root element");
    XmlElement root = element(0);
    skipMisc();
    if (at_ != text_.size()) bad("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void bad(std::string_view what) const {
    fail(ErrorCode::Format, "malformed XML at byte {}: {}", at_, what);
  }
  bool peek(std::string_view s) const { return text_.substr(at_, s.size()) == s; }
  void expect(std::string_view s) {
    if (!peek(s)) bad(fmt::format("expected '{}'", s));
    at_ += s.size();
  }
  void skipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\r' || text_[at_] == '\n'))
      ++at_;
  }
  void skipPast(std::string_view end, std::string_view what) {
    size_t found = text_.find(end, at_);
    if (found == std::string_view::npos) bad(fmt::format("unterminated {}", what));
    at_ = found + end.size();
  }
  // Comments, processing instructions and white space between elements.
  void skipMisc() {
    for (;;) {
      skipSpace();
      if (peek("<?")) skipPast("?>", "processing instruction");
      else if (peek("<!--")) skipPast("-->", "comment");
      else return;
    }
  }
  void skipProlog() {
    if (peek("\xEF\xBB\xBF")) at_ += 3;  // a byte-order mark
    skipMisc();
    if (peek("<!DOCTYPE")) bad("document type declarations are not accepted");
  }
  static bool nameChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
  }
  std::string name() {
    size_t start = at_;
    while (at_ < text_.size() && nameChar(text_[at_])) ++at_;
    if (at_ == start) bad("expected a name");
    return std::string(text_.substr(start, at_ - start));
  }
  void appendUtf8(std::string& out, uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) bad("character reference out of range");
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  void entity(std::string& out) {
    size_t semi = text_.find(';', at_);
    if (semi == std::string_view::npos || semi - at_ > 12) bad("unterminated entity");
    std::string_view ref = text_.substr(at_ + 1, semi - at_ - 1);
    if (ref == "amp") out.push_back('&');
    else if (ref == "lt") out.push_back('<');
    else if (ref == "gt") out.push_back('>');
    else if (ref == "quot") out.push_back('"');
    else if (ref == "apos") out.push_back('\'');
    else if (ref.size() > 1 && ref[0] == '#') {
      bool hex = ref[1] == 'x';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) bad("empty character reference");
      uint32_t cp = 0;
      for (char c : digits) {
        int v = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0 || cp > 0x10FFFF) bad("bad character reference");
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      }
      appendUtf8(out, cp);
    } else {
      bad("unknown entity");
    }
    at_ = semi + 1;
  }
  void attributes() {
    for (;;) {
      skipSpace();
      if (at_ >= text_.size()) bad("unterminated start tag");
      if (peek("/>") || peek(">")) return;
      name();
      skipSpace();
      expect("=");
      skipSpace();
      if (at_ >= text_.size() || (text_[at_] != '"' && text_[at_] != '\'')) bad("attribute value without quotes");
      char quote = text_[at_++];
      size_t end = text_.find(quote, at_);
      if (end == std::string_view::npos) bad("unterminated attribute value");
      at_ = end + 1;
    }
  }
  XmlElement element(size_t depth) {
    if (depth > kMaxDepth) bad("elements nested too deeply");
    expect("<");
    XmlElement e;
    e.name = name();
    attributes();
    if (peek("/>")) {
      at_ += 2;
      return e;
    }
    expect(">");
    for (;;) {
      if (at_ >= text_.size()) bad(fmt::format("element '{}' is not closed", e.name));
      char c = text_[at_];
      if (c == '<') {
        if (peek("</")) {
          at_ += 2;
          if (name() != e.name) bad(fmt::format("mismatched end tag of '{}'", e.name));
          skipSpace();
          expect(">");
          return e;
        }
        if (peek("<!--")) skipPast("-->", "comment");
        else if (peek("<![CDATA[")) {
          size_t end = text_.find("]]>", at_);
          if (end == std::string_view::npos) bad("unterminated CDATA section");
          e.text.append(text_.substr(at_ + 9, end - at_ - 9));
          at_ = end + 3;
        } else if (peek("<?")) skipPast("?>", "processing instruction");
        else e.children.push_back(element(depth + 1));
      } else if (c == '&') {
        entity(e.text);
      } else {
        e.text.push_back(c);
        ++at_;
      }
    }
  }

  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

const XmlElement* XmlElement::child(std::string_view wanted) const {
  for (const auto& c : children)
    if (c.name == wanted) return &c;
  return nullptr;
}

std::optional<std::string> XmlElement::childText(std::string_view wanted) const {
  const XmlElement* c = child(wanted);
  if (!c) return std::nullopt;
  return c->text;
}

std::vector<const XmlElement*> XmlElement::all(std::string_view wanted) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children)
    if (c.name == wanted) out.push_back(&c);
  return out;
}

XmlElement parseXml(std::string_view document) { return Parser(document).document(); }

std::string xmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace pgbr::objectstore

#include "common/objectstore/xml.h"

#include "common/error.h"
#include "test/common/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::objectstore;

TEST_CASE("XML: a ListObjectsV2 reply reads as elements with decoded text") {
  auto root = parseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
      "<Contents><Key>a&amp;b &lt;c&gt; &#x41;&#66;</Key><Size>12</Size></Contents>"
      "<Contents><Key><![CDATA[x<y]]></Key><Size>0</Size></Contents><!-- note -->"
      "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes><IsTruncated>false</IsTruncated><Empty/>"
      "</ListBucketResult>");
  CHECK(root.name == "ListBucketResult");
  auto contents = root.all("Contents");
  REQUIRE(contents.size() == 2);
  CHECK(contents[0]->childText("Key") == "a&b <c> AB");
  CHECK(contents[1]->childText("Key") == "x<y");
  CHECK(root.child("CommonPrefixes")->childText("Prefix") == "d/");
  CHECK(root.childText("Empty") == "");
  CHECK_FALSE(root.childText("Missing").has_value());
}

TEST_CASE("XML: truncated, mismatched or garbled documents are Format errors") {
  for (std::string bad : {"", "<a>", "<a><b></a>", "<a>x</a>trailing", "<a>&bogus;</a>", "<a>&#0;</a>",
                          "<a b=c></a>", "not xml", "<a><![CDATA[x</a>", "<!DOCTYPE a><a/>"}) {
    CAPTURE(bad);
    CHECK(test::errorCodeOf([&] { parseXml(bad); }) == ErrorCode::Format);
  }
}

TEST_CASE("XML: escaping round-trips through the parser") {
  std::string text = "a&b<c>\"d'";
  CHECK(parseXml("<x>" + xmlEscape(text) + "</x>").text == text);
}

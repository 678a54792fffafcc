#include "frontend/resp/resp_writer.h"

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(ReplyWriter, Resp2) {
  ReplyWriter out(2);
  out.ok();
  out.error("ERR bad\r\nthing");
  out.integer(-42);
  out.bulk("a\r\nb");
  out.null();
  out.null_array();
  out.map(1);
  out.set(2);
  out.double_value(1.5);
  out.boolean(true);
  out.verbatim("hi");
  EXPECT_EQ(out.buffer(), "+OK\r\n-ERR bad  thing\r\n:-42\r\n$4\r\na\r\nb\r\n$-1\r\n*-1\r\n*2\r\n*2\r\n$3\r\n1.5\r\n:1\r\n$2\r\nhi\r\n");
  EXPECT_EQ(out.errors_written(), 1);
}

TEST(ReplyWriter, Resp3) {
  ReplyWriter out(3);
  out.null();
  out.null_array();
  out.map(1);
  out.set(2);
  out.double_value(1.5);
  out.boolean(false);
  out.verbatim("hi");
  EXPECT_EQ(out.buffer(), "_\r\n_\r\n%1\r\n~2\r\n,1.5\r\n#f\r\n=6\r\ntxt:hi\r\n");
}

TEST(ReplyWriter, FloatFormatting) {
  EXPECT_EQ(format_long_double(10.5L + 0.1L), "10.6");
  EXPECT_EQ(format_long_double(3.0L), "3");
  EXPECT_EQ(format_long_double(-0.0L), "0");
  EXPECT_EQ(format_long_double(5.0e3L), "5000");
  EXPECT_EQ(format_double(1.0 / 0.0), "inf");
}

}  // namespace
}  // namespace keel

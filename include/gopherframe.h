/*
 * <gopherframe.h> - the whole public API of GopherFrame, a C11 library for
 * columnar, Apache-Arrow-compatible data frames whose operations run in
 * parallel on every core.
 *
 * Conventions (see docs/API.md):
 * - Fallible functions return gf_status (GF_OK = 0) and take an optional last
 *   argument `gf_error *err` that receives a message with context.
 * - On failure, outputs are left untouched and nothing leaks.
 * - `*_new`/`*_free` for handles owned once; `*_retain`/`*_release` for
 *   shared immutable ones. Every free/release accepts NULL.
 */
#ifndef GOPHERFRAME_H
#define GOPHERFRAME_H

#include "gopherframe/core.h"
#include "gopherframe/data.h"
#include "gopherframe/cdata.h"
#include "gopherframe/exec.h"
#include "gopherframe/io.h"
#include "gopherframe/expr.h"
#include "gopherframe/groupby.h"
#include "gopherframe/sort_join.h"
#include "gopherframe/ipc.h"
#include "gopherframe/parquet.h"
#include "gopherframe/query.h"
#include "gopherframe/plan.h"
#include "gopherframe/files.h"
#include "gopherframe/describe.h"
#include "gopherframe/output.h"
#include "gopherframe/parquet_write.h"
#include "gopherframe/format.h"

#include "gopherframe/json.h"

#endif /* GOPHERFRAME_H */

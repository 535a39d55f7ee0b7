# data.table peer runner: Rscript datatable.R CASE[,CASE...] FILE THREADS [RUNS]
# setDTthreads(THREADS); FILE is read once with fread (not timed; csv_load
# times the read itself); each case runs RUNS times (the result stays a
# data.table) and one JSON line per case is printed (bench/bench_common.h).
# The group-by setup follows db-benchmark's data.table script: ids as factors
# (stringsAsFactors), integers as integer, v3 double. R has no native int64,
# so the filter data's a, b, c are R integers (their values fit 32 bits).
suppressMessages(library(data.table))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) {
  cat("usage: Rscript datatable.R CASE[,CASE...] FILE THREADS [RUNS]\n", file = stderr())
  quit(status = 2)
}
cases <- strsplit(args[1], ",", fixed = TRUE)[[1]]
file <- args[2]
threads <- as.integer(args[3])
runs <- if (length(args) > 3) as.integer(args[4]) else 5L
invisible(setDTthreads(threads))
version <- as.character(packageVersion("data.table"))
data_label <- sub("\\.csv$", "", basename(file))

# Process high-water RSS in MiB (VmHWM: what getrusage gives our driver).
peak_rss_mb <- function() {
  l <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
  as.numeric(gsub("[^0-9]", "", l)) / 1024
}
num <- function(v) {
  v <- as.numeric(v)
  if (length(v) != 1 || !is.finite(v)) "null" else sprintf("%.17g", v)
}
jsum <- function(x) sum(as.numeric(x), na.rm = TRUE)
lensum <- function(s) sum(as.numeric(nchar(as.character(s))), na.rm = TRUE)

# Each case: kind (which data), run(x) the timed expression returning the
# result, chk(ans) the checksum numbers (bench_common.h's order).
CASES <- list(
  csv_load = list(kind = "csv"),
  q1 = list(kind = "g1", run = function(x) x[, .(v1 = sum(v1, na.rm = TRUE)), by = id1],
            chk = function(a) c(jsum(a$v1))),
  q2 = list(kind = "g1", run = function(x) x[, .(v1 = sum(v1, na.rm = TRUE)), by = .(id1, id2)],
            chk = function(a) c(jsum(a$v1))),
  q3 = list(kind = "g1", run = function(x) x[, .(v1 = sum(v1, na.rm = TRUE), v3 = mean(v3, na.rm = TRUE)),
                                             by = id3],
            chk = function(a) c(jsum(a$v1), jsum(a$v3))),
  q4 = list(kind = "g1", run = function(x) x[, lapply(.SD, mean, na.rm = TRUE), by = id4,
                                             .SDcols = c("v1", "v2", "v3")],
            chk = function(a) c(jsum(a$v1), jsum(a$v2), jsum(a$v3))),
  q5 = list(kind = "g1", run = function(x) x[, lapply(.SD, sum, na.rm = TRUE), by = id6,
                                             .SDcols = c("v1", "v2", "v3")],
            chk = function(a) c(jsum(a$v1), jsum(a$v2), jsum(a$v3))),
  q6 = list(kind = "g1", run = function(x) x[, .(median_v3 = median(v3, na.rm = TRUE),
                                                 sd_v3 = sd(v3, na.rm = TRUE)), by = .(id4, id5)],
            chk = function(a) c(jsum(a$median_v3), jsum(a$sd_v3))),
  q7 = list(kind = "g1", run = function(x) x[, .(range_v1_v2 = max(v1, na.rm = TRUE) - min(v2, na.rm = TRUE)),
                                             by = id3],
            chk = function(a) c(jsum(a$range_v1_v2))),
  q8 = list(kind = "g1", run = function(x) x[!is.na(v3)][order(-v3), .(largest2_v3 = head(v3, 2L)), by = id6],
            chk = function(a) c(jsum(a$largest2_v3))),
  q9 = list(kind = "g1", run = function(x) x[, .(r2 = cor(v1, v2, use = "na.or.complete")^2), by = .(id2, id4)],
            chk = function(a) c(jsum(a$r2))),
  q10 = list(kind = "g1", run = function(x) x[, .(v3 = sum(v3, na.rm = TRUE), count = .N),
                                              by = .(id1, id2, id3, id4, id5, id6)],
             chk = function(a) c(jsum(a$v3), jsum(a$count))),
  # Beyond db-benchmark: a filter (and a computed column) before the group-by.
  qf1 = list(kind = "g1", run = function(x) x[v1 > 2L, .(v3 = sum(v3, na.rm = TRUE), count = .N), by = id1],
             chk = function(a) c(jsum(a$v3), jsum(a$count))),
  qf2 = list(kind = "g1", run = function(x) x[v2 <= 5L & v3 > 50, .(w = sum(v1 * v3, na.rm = TRUE),
                                                                    v3 = mean(v3, na.rm = TRUE)),
                                              by = .(id2, id4)],
             chk = function(a) c(jsum(a$w), jsum(a$v3))),
  filter_i64_1pct = list(kind = "filter", run = function(x) x[a < 10000L, .(a)],
                         chk = function(r) c(jsum(r$a))),
  filter_i64_30pct = list(kind = "filter", run = function(x) x[a < 300000L, .(a)],
                          chk = function(r) c(jsum(r$a))),
  filter_i64_80pct = list(kind = "filter", run = function(x) x[a < 800000L, .(a)],
                          chk = function(r) c(jsum(r$a))),
  filter_f64_30pct = list(kind = "filter", run = function(x) x[x < 0.3, .(x)],
                          chk = function(r) c(jsum(r$x))),
  filter_str_eq = list(kind = "filter", run = function(x) x[s == "s042", .(s)],
                       chk = function(r) c(lensum(r$s))),
  filter_mixed_30pct = list(kind = "filter", run = function(x) x[a < 300000L],
                            chk = function(r) c(jsum(r$a), jsum(r$b), jsum(r$c), jsum(r$x), lensum(r$s))),
  filter_expr = list(kind = "filter", run = function(x) x[a * 2L + b > c, .(a, b, c)],
                     chk = function(r) c(jsum(r$a), jsum(r$b), jsum(r$c))),
  eval_expr = list(kind = "filter", run = function(x) x[, .(r = a * 2L + b > c)],
                   chk = function(r) c(jsum(r$r))),
  j1 = list(kind = "join", run = function(x) R$small[x, on = "id1", nomatch = NULL],
            chk = function(r) c(jsum(r$v1), jsum(r$v2))),
  j2 = list(kind = "join", run = function(x) R$medium[x, on = "id2", nomatch = NULL],
            chk = function(r) c(jsum(r$v1), jsum(r$v2))),
  j3 = list(kind = "join", run = function(x) R$medium[x, on = "id2"],
            chk = function(r) c(jsum(r$v1), jsum(r$v2))),
  j4 = list(kind = "join", run = function(x) R$medium[x, on = "id5", nomatch = NULL],
            chk = function(r) c(jsum(r$v1), jsum(r$v2))),
  j5 = list(kind = "join", run = function(x) R$big[x, on = "id3", nomatch = NULL],
            chk = function(r) c(jsum(r$v1), jsum(r$v2))),
  sort_i64 = list(kind = "filter", run = function(x) x[order(a)],
                  chk = function(r) c(jsum(r$a), r$a[1])),
  sort_f64 = list(kind = "filter", run = function(x) x[order(x)],
                  chk = function(r) c(jsum(r$x), r$x[1])),
  sort_str = list(kind = "filter", run = function(x) x[order(s)],
                  chk = function(r) c(lensum(r$s))),
  sort_two = list(kind = "filter", run = function(x) x[order(s, a)],
                  chk = function(r) c(jsum(r$a), r$a[1]))
)

# qN_file: the group-by case qN timed from the file (fread + query).
base_case <- function(k) sub("_file$", "", k)
from_file <- function(k) grepl("_file$", k) && !is.null(CASES[[base_case(k)]]) &&
  CASES[[base_case(k)]]$kind == "g1"
g1_read <- function() fread(file, showProgress = FALSE, stringsAsFactors = TRUE, na.strings = "",
                            colClasses = c(v3 = "numeric"))

for (k in cases) if (is.null(CASES[[k]]) && !from_file(k)) {
  cat(sprintf("datatable.R: unknown case '%s'\n", k), file = stderr())
  quit(status = 2)
}
kinds <- unique(vapply(cases, function(k) if (from_file(k)) "g1file" else CASES[[k]]$kind, ""))
x <- NULL
if ("g1" %in% kinds) {
  x <- g1_read()
} else if ("filter" %in% kinds) {
  x <- fread(file, showProgress = FALSE, colClasses = c(x = "numeric", s = "character"))
}
R <- NULL
if ("join" %in% kinds) {
  # db-benchmark's join setup: string ids as factors. Right tables: N/1e6,
  # N/1e3 and N rows beside the left table J1_1eN_NA_P_S.csv.
  m <- regmatches(basename(file), regexec("^J1_1e([0-9]+)_NA_([0-9]+)_([0-9]+)\\.csv$", basename(file)))[[1]]
  if (length(m) == 0) stop("join data must be named J1_1eN_NA_P_S.csv")
  e <- as.integer(m[2])
  rname <- function(k) file.path(dirname(file), sprintf("J1_1e%d_1e%d_%s_%s.csv", e, k, m[3], m[4]))
  rd <- function(f) fread(f, showProgress = FALSE, stringsAsFactors = TRUE, na.strings = "")
  x <- rd(file)
  R <- list(small = rd(rname(e - 6L)), medium = rd(rname(e - 3L)), big = rd(rname(e)))
}
sum_cols <- c("id4", "id5", "id6", "v1", "v2", "v3")

for (k in cases) {
  ff <- from_file(k)
  cs <- CASES[[base_case(k)]]
  secs <- numeric(runs)
  cpu <- numeric(runs)
  ans <- NULL
  for (r in seq_len(runs)) {
    ans <- NULL
    invisible(gc(verbose = FALSE))
    c0 <- sum(proc.time()[c("user.self", "sys.self")])
    t0 <- as.numeric(Sys.time())
    ans <- if (cs$kind == "csv") fread(file, showProgress = FALSE, na.strings = "")
           else if (ff) cs$run(g1_read()) else cs$run(x)
    secs[r] <- as.numeric(Sys.time()) - t0
    cpu[r] <- sum(proc.time()[c("user.self", "sys.self")]) - c0
    if (r == 1L) rss_first <- peak_rss_mb()
  }
  chk <- if (cs$kind == "csv") {
    vapply(intersect(sum_cols, names(ans)), function(n) jsum(ans[[n]]), 0)
  } else cs$chk(ans)
  rows_in <- if (cs$kind == "csv") nrow(ans) else if (ff) nrow(g1_read()) else nrow(x)
  cat(sprintf(paste0('{"system":"data.table","version":"%s","case":"%s","data":"%s","rows_in":%d,',
                     '"threads":%d,"runs":%d,"median_s":%s,"min_s":%s,"rows":%d,"checksum":[%s],',
                     '"peak_rss_mb":%.1f,"rss_first_mb":%.1f,"cpu_s":%s}\n'),
              version, k, data_label, as.integer(rows_in), threads, runs, num(median(secs)),
              num(min(secs)), as.integer(nrow(ans)),
              paste(vapply(chk, num, ""), collapse = ","), peak_rss_mb(), rss_first, num(median(cpu))))
}

"""GopherFrame: Arrow-compatible parallel DataFrames, from Python.

A thin layer over the C library (the extension ``gopherframe._gopherframe``
is written on its public API). Frames are immutable; every method returns a
new frame. Expressions are strings in the engine's expression language
(``"v1 > 3 and id1 = 'id016'"``) or built with :func:`col` / :func:`lit`.
:func:`scan_csv`, :func:`scan_ipc`, :func:`scan_parquet`, :func:`scan_files` and :meth:`DataFrame.lazy` start lazy
plans (:class:`LazyFrame`: ``explain``, ``collect``).

Every method that runs the engine takes the keyword arguments

* ``threads``: workers to use (default: every usable CPU),
* ``timeout``: seconds after which the call fails with :class:`TimedOutError`,
* ``memory_limit``: bytes the call may allocate (else :class:`OutOfMemoryError`).

The GIL is released while the engine works, and Ctrl-C
(``KeyboardInterrupt``) cancels a running call.
"""
from __future__ import annotations

import math
import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _gopherframe as _gf
from ._gopherframe import (  # noqa: F401  (re-exported)
    CanceledError,
    Error,
    InternalError,
    InvalidArgumentError,
    IoError,
    NotSupportedError,
    OutOfMemoryError,
    OutOfRangeError,
    ParseError,
    TimedOutError,
    TypeMismatchError,
)

__all__ = [
    "DataFrame", "GroupBy", "LazyFrame", "LazyGroupBy", "Expr", "col", "lit", "read_csv", "read_ipc",
    "read_parquet", "read_json", "read_ndjson", "read_files", "scan_csv", "scan_ipc", "scan_parquet", "scan_files", "from_arrow",
    "concat", "build_info", "Error", "InvalidArgumentError", "OutOfMemoryError", "IoError",
    "CanceledError", "TimedOutError", "NotSupportedError", "TypeMismatchError", "ParseError",
    "OutOfRangeError", "InternalError",
]

__version__: str = _gf.build_info()["version"]

PathLike = Union[str, "os.PathLike[str]"]
ExprLike = Union[str, "Expr"]

_COMPRESSION = {None: 0, "none": 0, "lz4": 1, "lz4_frame": 1, "zstd": 2}
# gf_parquet_compression; "lz4" is Parquet's LZ4_RAW (the block format
# pyarrow writes and reads as "lz4").
_PARQUET_COMPRESSION = {None: 0, "none": 0, "uncompressed": 0, "snappy": 1, "gzip": 2, "zstd": 3, "lz4": 4,
                        "lz4_raw": 4}
_HIVE = {None: 0, "auto": 0, True: 1, False: 2}
_FILE_FORMAT = {None: 0, "auto": 0, "csv": 1, "ipc": 2, "arrow": 2}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def build_info() -> Dict[str, Any]:
    """Library version, the IPC codecs this build carries (``lz4``,
    ``zstd``: True/False), the Parquet page codecs it can write
    (``parquet``: {"snappy": True, ...}), the whole-file compressions it
    reads and writes (``files``: gzip, zstd, lz4, bzip2) and the CPU
    features the kernels use."""
    return dict(_gf.build_info())


def _opts(threads: Optional[int], timeout: Optional[float], memory_limit: Optional[int]) -> Tuple[int, int, int]:
    """The (threads, timeout_ms, memory_limit) triple the extension takes."""
    t = 0 if threads is None else int(threads)
    if t < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if timeout is None:
        ms = 0
    else:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        ms = max(1, int(math.ceil(float(timeout) * 1000.0)))
    m = 0 if memory_limit is None else int(memory_limit)
    if m < 0:
        raise ValueError(f"memory_limit must be >= 0 bytes, got {memory_limit}")
    return (t, ms, m)


def _path(p: PathLike) -> str:
    return os.fsdecode(os.fspath(p))


def _quote(name: str) -> str:
    """A column name as the expression and sort-spec parsers read it."""
    if _IDENT.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _text(e: ExprLike) -> str:
    if isinstance(e, Expr):
        return e._text
    if isinstance(e, str):
        return e
    raise TypeError(f"expected an expression (str or gopherframe.Expr), got {type(e).__name__}")


def _names(items: Iterable[Any], what: str) -> List[str]:
    out: List[str] = []
    for it in items:
        if isinstance(it, (list, tuple)):
            out.extend(_names(it, what))
        elif isinstance(it, str):
            out.append(it)
        else:
            raise TypeError(f"{what}: expected column names (str), got {type(it).__name__}")
    return out


# ---------------------------------------------------------------------------
# A thin expression builder: it only writes expression-language text.
# ---------------------------------------------------------------------------

class Expr:
    """An expression of the engine's language, built from :func:`col` and
    :func:`lit` with Python operators: ``(col("v1") > 3) & col("id1").is_in(["a"])``.
    ``str(expr)`` is its text; methods taking expressions accept either."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"

    def _bin(self, op: str, other: Any, reverse: bool = False) -> "Expr":
        o = _as_expr(other)
        a, b = (o, self) if reverse else (self, o)
        return Expr(f"({a._text} {op} {b._text})")

    def __add__(self, o: Any) -> "Expr": return self._bin("+", o)
    def __radd__(self, o: Any) -> "Expr": return self._bin("+", o, True)
    def __sub__(self, o: Any) -> "Expr": return self._bin("-", o)
    def __rsub__(self, o: Any) -> "Expr": return self._bin("-", o, True)
    def __mul__(self, o: Any) -> "Expr": return self._bin("*", o)
    def __rmul__(self, o: Any) -> "Expr": return self._bin("*", o, True)
    def __truediv__(self, o: Any) -> "Expr": return self._bin("/", o)
    def __rtruediv__(self, o: Any) -> "Expr": return self._bin("/", o, True)
    def __mod__(self, o: Any) -> "Expr": return self._bin("%", o)
    def __eq__(self, o: Any) -> "Expr": return self._bin("=", o)  # type: ignore[override]
    def __ne__(self, o: Any) -> "Expr": return self._bin("!=", o)  # type: ignore[override]
    def __lt__(self, o: Any) -> "Expr": return self._bin("<", o)
    def __le__(self, o: Any) -> "Expr": return self._bin("<=", o)
    def __gt__(self, o: Any) -> "Expr": return self._bin(">", o)
    def __ge__(self, o: Any) -> "Expr": return self._bin(">=", o)
    def __and__(self, o: Any) -> "Expr": return self._bin("and", o)
    def __rand__(self, o: Any) -> "Expr": return self._bin("and", o, True)
    def __or__(self, o: Any) -> "Expr": return self._bin("or", o)
    def __ror__(self, o: Any) -> "Expr": return self._bin("or", o, True)
    def __invert__(self) -> "Expr": return Expr(f"(not {self._text})")
    def __neg__(self) -> "Expr": return Expr(f"(-{self._text})")
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError("an Expr has no truth value: use & | ~ instead of and/or/not")

    def is_null(self) -> "Expr": return Expr(f"({self._text} is null)")
    def is_not_null(self) -> "Expr": return Expr(f"({self._text} is not null)")

    def is_in(self, values: Iterable[Any]) -> "Expr":
        items = ", ".join(_as_expr(v)._text for v in values)
        if not items:
            raise ValueError("is_in needs at least one value")
        return Expr(f"({self._text} in ({items}))")

    def between(self, lo: Any, hi: Any) -> "Expr":
        return Expr(f"({self._text} between {_as_expr(lo)._text} and {_as_expr(hi)._text})")

    def cast(self, type_name: str) -> "Expr":
        return Expr(f"cast({self._text} as {type_name})")

    def call(self, fn: str, *args: Any) -> "Expr":
        """``col("s").call("substr", 1, 3)`` is ``substr(s, 1, 3)``."""
        rest = "".join(", " + _as_expr(a)._text for a in args)
        return Expr(f"{fn}({self._text}{rest})")


def col(name: str) -> Expr:
    """A column reference."""
    return Expr(_quote(name))


def lit(value: Any) -> Expr:
    """A literal: None, bool, int, float or str."""
    if value is None:
        return Expr("null")
    if isinstance(value, bool):
        return Expr("true" if value else "false")
    if isinstance(value, int):
        return Expr(str(value) if value >= 0 else f"({value})")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return Expr(f"cast('{value!r}' as float64)")
        text = repr(value)
        return Expr(text if value >= 0 else f"({text})")
    if isinstance(value, str):
        return Expr("'" + value.replace("'", "''") + "'")
    raise TypeError(f"lit: unsupported value of type {type(value).__name__}")


def _as_expr(v: Any) -> Expr:
    return v if isinstance(v, Expr) else lit(v)


# ---------------------------------------------------------------------------
# DataFrame
# ---------------------------------------------------------------------------

class DataFrame:
    """An immutable frame: a schema and record batches in Arrow layout.

    ``DataFrame(obj)`` imports any Arrow PyCapsule producer (see
    :func:`from_arrow`). Frames export themselves the same way
    (``pyarrow.table(df)``, ``polars.DataFrame(df)``, DuckDB's
    ``duckdb.sql("select * from df")``) without copying, and pickle as
    Arrow IPC."""

    __slots__ = ("_f", "__weakref__")

    def __init__(self, data: Any = None) -> None:
        if data is None:
            raise TypeError("DataFrame(data): data must be an Arrow stream producer "
                            "(use read_csv, read_ipc or from_arrow)")
        self._f = from_arrow(data)._f

    @classmethod
    def _wrap(cls, handle: Any) -> "DataFrame":
        df = cls.__new__(cls)
        df._f = handle
        return df

    # -- shape and schema --------------------------------------------------
    @property
    def shape(self) -> Tuple[int, int]:
        rows, cols, _ = _gf.info(self._f)
        return (rows, cols)

    @property
    def height(self) -> int:
        return _gf.info(self._f)[0]

    @property
    def width(self) -> int:
        return _gf.info(self._f)[1]

    @property
    def num_batches(self) -> int:
        """Number of record batches (chunks) the frame holds."""
        return _gf.info(self._f)[2]

    @property
    def columns(self) -> List[str]:
        return [name for name, _, _ in _gf.schema(self._f)]

    @property
    def schema(self) -> Dict[str, str]:
        """Column name -> type name ("int64", "timestamp[ms, UTC]", ...), in order."""
        return {name: t for name, t, _ in _gf.schema(self._f)}

    @property
    def dtypes(self) -> List[str]:
        return [t for _, t, _ in _gf.schema(self._f)]

    def __len__(self) -> int:
        return _gf.info(self._f)[0]

    def __repr__(self) -> str:
        return _gf.format(self._f, 0, 0, 0)

    def to_string(self, max_rows: int = 10, max_columns: int = 12, max_width: int = 32) -> str:
        """The table printer's text with the given limits."""
        return _gf.format(self._f, max_rows, max_columns, max_width)

    def equals(self, other: "DataFrame") -> bool:
        """Same schema and values row by row (batch boundaries may differ)."""
        if not isinstance(other, DataFrame):
            return False
        return _gf.equals(self._f, other._f)

    # -- operations --------------------------------------------------------
    def filter(self, predicate: ExprLike, *, threads: Optional[int] = None, timeout: Optional[float] = None,
               memory_limit: Optional[int] = None) -> "DataFrame":
        """Rows where the boolean expression is true (null counts as false)."""
        return DataFrame._wrap(_gf.filter(self._f, _text(predicate), _opts(threads, timeout, memory_limit)))

    def with_columns(self, exprs: Optional[Mapping[str, ExprLike]] = None, *, threads: Optional[int] = None,
                     timeout: Optional[float] = None, memory_limit: Optional[int] = None,
                     **named: ExprLike) -> "DataFrame":
        """Adds or replaces columns: ``df.with_columns(w="v1 * v3")`` or
        ``df.with_columns({"w": col("v1") * col("v3")})``. Every expression
        sees the input frame's columns."""
        items: Dict[str, ExprLike] = dict(exprs or {})
        for k, v in named.items():
            if k in items:
                raise ValueError(f"with_columns: column '{k}' given twice")
            items[k] = v
        if not items:
            return self
        names = list(items.keys())
        texts = [_text(items[n]) for n in names]
        return DataFrame._wrap(_gf.with_columns(self._f, names, texts, _opts(threads, timeout, memory_limit)))

    def select(self, *columns: Union[str, Sequence[str]]) -> "DataFrame":
        """The named columns in the order given (zero-copy)."""
        return DataFrame._wrap(_gf.select(self._f, _names(columns, "select")))

    def group_by(self, *keys: Union[str, Sequence[str]], sort: bool = False) -> "GroupBy":
        """Groups by key columns (none: the whole frame is one group); groups
        come in order of first appearance, or sorted by key with sort=True."""
        return GroupBy(self, _names(keys, "group_by"), sort)

    def sort(self, by: Union[str, Sequence[str]], *more_by: str, descending: Union[bool, Sequence[bool]] = False,
             nulls_first: Union[bool, Sequence[bool]] = False, limit: Optional[int] = None,
             threads: Optional[int] = None, timeout: Optional[float] = None,
             memory_limit: Optional[int] = None) -> "DataFrame":
        """Stable sort by columns; ``descending``/``nulls_first`` per column or
        for all; ``limit`` keeps the first rows (a parallel top-k)."""
        keys = _names([by, *more_by], "sort")
        if not keys:
            raise ValueError("sort: at least one column")
        desc = [descending] * len(keys) if isinstance(descending, bool) else list(descending)
        nf = [nulls_first] * len(keys) if isinstance(nulls_first, bool) else list(nulls_first)
        if len(desc) != len(keys) or len(nf) != len(keys):
            raise ValueError("sort: descending and nulls_first need one value per column")
        spec = ", ".join(
            f"{_quote(k)} {'desc' if d else 'asc'} nulls {'first' if n else 'last'}" for k, d, n in zip(keys, desc, nf))
        lim = 0 if limit is None else int(limit)
        if limit is not None and lim <= 0:
            if lim == 0:
                return self.head(0)
            raise ValueError("sort: limit must be >= 0")
        return DataFrame._wrap(_gf.sort(self._f, spec, lim, _opts(threads, timeout, memory_limit)))

    def join(self, other: "DataFrame", on: Union[str, Sequence[str], None] = None, *,
             left_on: Union[str, Sequence[str], None] = None, right_on: Union[str, Sequence[str], None] = None,
             how: str = "inner", suffix: str = "_right", threads: Optional[int] = None,
             timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> "DataFrame":
        """Hash join on equal keys; how is inner, left, right, full (outer),
        semi or anti. Output rows follow the left frame's order."""
        if not isinstance(other, DataFrame):
            other = from_arrow(other)
        if on is not None:
            if left_on is not None or right_on is not None:
                raise ValueError("join: give either on= or left_on=/right_on=")
            left_on = right_on = on
        if left_on is None or right_on is None:
            raise ValueError("join: give on= or both left_on= and right_on=")
        lo = _names([left_on], "join")
        ro = _names([right_on], "join")
        return DataFrame._wrap(_gf.join(self._f, other._f, lo, ro, how, suffix,
                                        _opts(threads, timeout, memory_limit)))

    def distinct(self, subset: Union[str, Sequence[str], None] = None, *, threads: Optional[int] = None,
                 timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> "DataFrame":
        """The first row of every distinct combination of ``subset`` (all
        columns by default), in input order."""
        keys = [] if subset is None else _names([subset], "distinct")
        return DataFrame._wrap(_gf.distinct(self._f, keys, _opts(threads, timeout, memory_limit)))

    unique = distinct

    def slice(self, offset: int, length: Optional[int] = None) -> "DataFrame":
        """Rows [offset, offset + length), clipped to the frame (zero-copy);
        a negative offset counts from the end."""
        n = len(self)
        off = int(offset)
        if off < 0:
            off = max(0, n + off)
        off = min(off, n)
        ln = n - off if length is None else max(0, min(int(length), n - off))
        return DataFrame._wrap(_gf.slice(self._f, off, ln))

    def head(self, n: int = 5) -> "DataFrame":
        """The first n rows (zero-copy)."""
        if n < 0:
            raise ValueError("head: n must be >= 0")
        return self.slice(0, n)

    def limit(self, n: int = 5) -> "DataFrame":
        """Same as head(n)."""
        return self.head(n)

    def tail(self, n: int = 5) -> "DataFrame":
        if n < 0:
            raise ValueError("tail: n must be >= 0")
        return self.slice(max(0, len(self) - n))

    def describe(self, *, threads: Optional[int] = None, timeout: Optional[float] = None,
                 memory_limit: Optional[int] = None) -> "DataFrame":
        """Summary statistics per column (like ``gf describe``)."""
        return DataFrame._wrap(_gf.describe(self._f, _opts(threads, timeout, memory_limit)))

    # -- output ------------------------------------------------------------
    def write_csv(self, path: PathLike, *, delimiter: str = ",", threads: Optional[int] = None,
                  timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> None:
        """Writes CSV atomically (a failed write leaves no partial file)."""
        _gf.write_csv(self._f, _path(path), delimiter, _opts(threads, timeout, memory_limit))

    def write_ipc(self, path: PathLike, *, compression: Optional[str] = None, stream: bool = False,
                  threads: Optional[int] = None, timeout: Optional[float] = None,
                  memory_limit: Optional[int] = None) -> None:
        """Writes an Arrow IPC file (or stream with stream=True); compression
        None, "lz4" or "zstd" (see build_info() for the codecs built in)."""
        if compression not in _COMPRESSION:
            raise ValueError(f"compression must be None, 'lz4' or 'zstd', got {compression!r}")
        _gf.write_ipc(self._f, _path(path), _COMPRESSION[compression], bool(stream),
                      _opts(threads, timeout, memory_limit))

    def to_ipc_bytes(self, *, compression: Optional[str] = None) -> bytes:
        """The frame as an Arrow IPC file in memory."""
        if compression not in _COMPRESSION:
            raise ValueError(f"compression must be None, 'lz4' or 'zstd', got {compression!r}")
        return _gf.write_ipc_bytes(self._f, _COMPRESSION[compression], (0, 0, 0))

    def write_parquet(self, path: PathLike, *, compression: Optional[str] = "snappy",
                      compression_level: Optional[int] = None, row_group_size: Optional[int] = None,
                      threads: Optional[int] = None, timeout: Optional[float] = None,
                      memory_limit: Optional[int] = None) -> None:
        """Writes a Parquet file atomically (a failed write leaves no file).
        ``compression``: "snappy" (default), "zstd", "gzip", "lz4" (LZ4_RAW)
        or "none" (see build_info()["parquet"]); ``compression_level`` 0 /
        None = the codec's default; ``row_group_size`` rows per row group
        (default 1048576). Statistics, the page index and the Arrow schema
        are written; the bytes do not depend on ``threads``."""
        code = _PARQUET_COMPRESSION.get(compression.lower() if isinstance(compression, str) else compression)
        if code is None:
            raise InvalidArgumentError(f"write_parquet: unknown compression {compression!r}; use one of "
                                       "'snappy', 'zstd', 'gzip', 'lz4' or 'none'")
        rg = 0 if row_group_size is None else int(row_group_size)
        if row_group_size is not None and rg <= 0:
            raise InvalidArgumentError(f"write_parquet: row_group_size must be > 0, got {row_group_size}")
        level = 0 if compression_level is None else int(compression_level)
        _gf.write_parquet(self._f, _path(path), code, level, rg, _opts(threads, timeout, memory_limit))

    def write_ndjson(self, path: PathLike, *, threads: Optional[int] = None, timeout: Optional[float] = None,
                     memory_limit: Optional[int] = None) -> None:
        """Writes newline-delimited JSON, one object per row (atomically).
        Temporal values as ISO 8601 strings, NaN/inf as null, binary as hex."""
        _gf.write_json(self._f, _path(path), False, _opts(threads, timeout, memory_limit))

    def write_json(self, path: PathLike, *, threads: Optional[int] = None, timeout: Optional[float] = None,
                   memory_limit: Optional[int] = None) -> None:
        """Writes one JSON array of objects (atomically); values as write_ndjson."""
        _gf.write_json(self._f, _path(path), True, _opts(threads, timeout, memory_limit))

    # -- Arrow PyCapsule interface and pickling ----------------------------
    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """An "arrow_array_stream" capsule over the frame's batches (zero-copy).
        The requested schema is not honoured (the protocol allows that)."""
        return _gf.export_stream(self._f)

    def __arrow_c_schema__(self) -> Any:
        """An "arrow_schema" capsule (a struct schema) of the frame."""
        return _gf.export_schema(self._f)

    def __reduce__(self) -> Any:
        return (_from_ipc_bytes, (self.to_ipc_bytes(),))

    def lazy(self) -> "LazyFrame":
        """A lazy plan over this frame (see :class:`LazyFrame`)."""
        return LazyFrame._wrap(_gf.plan_from_frame(self._f))

    def _buffer_address(self, batch: int, column: int, index: int) -> Tuple[int, int]:
        """(address of Arrow buffer `index` of a column chunk, its offset); for tests."""
        return _gf.buffer_address(self._f, batch, column, index)


class GroupBy:
    """``df.group_by(keys)``; finish with :meth:`agg`."""

    __slots__ = ("_df", "_keys", "_sort")

    def __init__(self, df: DataFrame, keys: List[str], sort: bool) -> None:
        self._df, self._keys, self._sort = df, keys, sort

    def agg(self, *aggs: Union[str, Sequence[str]], threads: Optional[int] = None,
            timeout: Optional[float] = None, memory_limit: Optional[int] = None,
            **named: str) -> DataFrame:
        """Aggregates in the engine's syntax: ``agg("sum(v1)", "mean(v3) as m",
        range="max(v1) - min(v2)")``. Output: the keys, then one column per item."""
        items = _names(aggs, "agg")
        items += [f"{text} as {_quote(name)}" for name, text in named.items()]
        return DataFrame._wrap(_gf.group_by(self._df._f, self._keys, ",".join(items), self._sort,
                                            _opts(threads, timeout, memory_limit)))


_ALL_RULES = 0x1F
_MAX_ROWS = 1 << 40


class LazyFrame:
    """A lazy query plan (the C library's gf_plan): operations only build
    and check the plan (unknown columns and type errors are raised at once,
    naming the step); :meth:`collect` optimizes and runs it, fusing
    filter/with_columns/select/limit per morsel. :meth:`explain` shows it.
    Results equal the eager methods applied in the same order."""

    __slots__ = ("_p",)

    def __init__(self, *_: Any) -> None:
        raise TypeError("LazyFrame: use scan_csv, scan_ipc, scan_parquet, scan_files or DataFrame.lazy()")

    @classmethod
    def _wrap(cls, handle: Any) -> "LazyFrame":
        lf = cls.__new__(cls)
        lf._p = handle
        return lf

    @property
    def schema(self) -> Dict[str, str]:
        """The checked output schema (column name -> type name)."""
        return {name: t for name, t, _ in _gf.plan_schema(self._p)}

    @property
    def columns(self) -> List[str]:
        return [name for name, _, _ in _gf.plan_schema(self._p)]

    @property
    def width(self) -> int:
        return len(_gf.plan_schema(self._p))

    def __repr__(self) -> str:
        return "LazyFrame:\n" + self.explain(optimized=False)

    def filter(self, predicate: ExprLike) -> "LazyFrame":
        return LazyFrame._wrap(_gf.plan_filter(self._p, _text(predicate)))

    def with_columns(self, exprs: Optional[Mapping[str, ExprLike]] = None, **named: ExprLike) -> "LazyFrame":
        items: Dict[str, ExprLike] = dict(exprs or {})
        for k, v in named.items():
            if k in items:
                raise ValueError(f"with_columns: column '{k}' given twice")
            items[k] = v
        if not items:
            return self
        names = list(items.keys())
        return LazyFrame._wrap(_gf.plan_with_columns(self._p, names, [_text(items[n]) for n in names]))

    def select(self, *columns: Union[str, Sequence[str]]) -> "LazyFrame":
        return LazyFrame._wrap(_gf.plan_select(self._p, _names(columns, "select")))

    def group_by(self, *keys: Union[str, Sequence[str]], sort: bool = False) -> "LazyGroupBy":
        return LazyGroupBy(self, _names(keys, "group_by"), sort)

    def sort(self, by: Union[str, Sequence[str]], *more_by: str, descending: Union[bool, Sequence[bool]] = False,
             nulls_first: Union[bool, Sequence[bool]] = False, limit: Optional[int] = None) -> "LazyFrame":
        keys = _names([by, *more_by], "sort")
        if not keys:
            raise ValueError("sort: at least one column")
        desc = [descending] * len(keys) if isinstance(descending, bool) else list(descending)
        nf = [nulls_first] * len(keys) if isinstance(nulls_first, bool) else list(nulls_first)
        if len(desc) != len(keys) or len(nf) != len(keys):
            raise ValueError("sort: descending and nulls_first need one value per column")
        spec = ", ".join(
            f"{_quote(k)} {'desc' if d else 'asc'} nulls {'first' if n else 'last'}" for k, d, n in zip(keys, desc, nf))
        out = LazyFrame._wrap(_gf.plan_sort(self._p, spec))
        return out if limit is None else out.head(limit)

    def join(self, other: Union["LazyFrame", DataFrame], on: Union[str, Sequence[str], None] = None, *,
             left_on: Union[str, Sequence[str], None] = None, right_on: Union[str, Sequence[str], None] = None,
             how: str = "inner", suffix: str = "_right") -> "LazyFrame":
        if isinstance(other, DataFrame):
            other = other.lazy()
        if not isinstance(other, LazyFrame):
            raise TypeError("join: the other side must be a LazyFrame or a DataFrame")
        if on is not None:
            if left_on is not None or right_on is not None:
                raise ValueError("join: give either on= or left_on=/right_on=")
            left_on = right_on = on
        if left_on is None or right_on is None:
            raise ValueError("join: give on= or both left_on= and right_on=")
        return LazyFrame._wrap(_gf.plan_join(self._p, other._p, _names([left_on], "join"),
                                             _names([right_on], "join"), how, suffix))

    def slice(self, offset: int, length: Optional[int] = None) -> "LazyFrame":
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("slice: offset and length must be >= 0 in a lazy plan")
        return LazyFrame._wrap(_gf.plan_limit(self._p, int(offset), _MAX_ROWS if length is None else int(length)))

    def head(self, n: int = 5) -> "LazyFrame":
        return self.slice(0, n)

    def limit(self, n: int = 5) -> "LazyFrame":
        return self.slice(0, n)

    def distinct(self, subset: Union[str, Sequence[str], None] = None) -> "LazyFrame":
        keys = [] if subset is None else _names([subset], "distinct")
        return LazyFrame._wrap(_gf.plan_distinct(self._p, keys))

    unique = distinct

    def union(self, other: Union["LazyFrame", DataFrame]) -> "LazyFrame":
        """Rows of self then of other, columns matched by name: a column one
        side lacks is null there; integers of different widths widen to
        int64, an integer with a float to float64; any other type clash
        raises TypeMismatchError naming the column."""
        if isinstance(other, DataFrame):
            other = other.lazy()
        return LazyFrame._wrap(_gf.plan_union(self._p, other._p))

    def explain(self, optimized: bool = True, *, schema: bool = False) -> str:
        """The plan as an indented tree (docs/PLANS.md); with optimized=True
        the plan before and after the optimizer."""
        return _gf.plan_explain(self._p, bool(optimized), bool(schema), 0)

    def collect(self, *, optimize: bool = True, threads: Optional[int] = None, timeout: Optional[float] = None,
                memory_limit: Optional[int] = None) -> DataFrame:
        """Optimizes (unless optimize=False) and runs the plan."""
        return DataFrame._wrap(_gf.plan_collect(self._p, 0 if optimize else _ALL_RULES, False,
                                                _opts(threads, timeout, memory_limit)))

    def profile(self, *, optimize: bool = True, threads: Optional[int] = None, timeout: Optional[float] = None,
                memory_limit: Optional[int] = None) -> Tuple[DataFrame, str]:
        """collect() and the run's per-operator profile as a text table."""
        f, text = _gf.plan_collect(self._p, 0 if optimize else _ALL_RULES, True,
                                   _opts(threads, timeout, memory_limit))
        return DataFrame._wrap(f), text

    def sink_csv(self, path: PathLike, *, delimiter: str = ",", threads: Optional[int] = None,
                 timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> None:
        """Runs the plan and writes CSV (atomically)."""
        _gf.plan_sink(self._p, 1, _path(path), delimiter, 0, 0, _opts(threads, timeout, memory_limit))

    def sink_ipc(self, path: PathLike, *, compression: Optional[str] = None, threads: Optional[int] = None,
                 timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> None:
        """Runs the plan and writes an Arrow IPC file (atomically)."""
        if compression not in _COMPRESSION:
            raise ValueError(f"compression must be None, 'lz4' or 'zstd', got {compression!r}")
        _gf.plan_sink(self._p, 2, _path(path), ",", _COMPRESSION[compression], 0,
                      _opts(threads, timeout, memory_limit))

    def sink_parquet(self, path: PathLike, *, compression: Optional[str] = "snappy",
                     compression_level: Optional[int] = None, row_group_size: Optional[int] = None,
                     threads: Optional[int] = None, timeout: Optional[float] = None,
                     memory_limit: Optional[int] = None) -> None:
        """Runs the plan and writes a Parquet file (atomically), options as
        DataFrame.write_parquet and the same bytes as
        ``collect().write_parquet(...)``. A plan that streams (a scan_csv
        with filters/selects, topped by a sort or a group-by) writes row
        group by row group without holding the result; it holds up to one
        row group (``row_group_size`` rows, default 1048576) of it."""
        code = _PARQUET_COMPRESSION.get(compression.lower() if isinstance(compression, str) else compression)
        if code is None:
            raise InvalidArgumentError(f"sink_parquet: unknown compression {compression!r}; use one of "
                                       "'snappy', 'zstd', 'gzip', 'lz4' or 'none'")
        rg = 0 if row_group_size is None else int(row_group_size)
        if row_group_size is not None and rg <= 0:
            raise InvalidArgumentError(f"sink_parquet: row_group_size must be positive, got {row_group_size!r}")
        _gf.plan_sink(self._p, 3, _path(path), ",", code, 0, _opts(threads, timeout, memory_limit),
                      int(compression_level or 0), rg)


class LazyGroupBy:
    """``lazy.group_by(keys)``; finish with :meth:`agg`."""

    __slots__ = ("_lf", "_keys", "_sort")

    def __init__(self, lf: LazyFrame, keys: List[str], sort: bool) -> None:
        self._lf, self._keys, self._sort = lf, keys, sort

    def agg(self, *aggs: Union[str, Sequence[str]], **named: str) -> LazyFrame:
        items = _names(aggs, "agg")
        items += [f"{text} as {_quote(name)}" for name, text in named.items()]
        return LazyFrame._wrap(_gf.plan_group_by(self._lf._p, self._keys, ",".join(items), self._sort))


def scan_csv(path: PathLike, *, delimiter: Optional[str] = None, header: Optional[bool] = None) -> LazyFrame:
    """A lazy CSV source: its schema is inferred now from the first rows;
    the file is read when the plan runs (only the columns the plan uses)."""
    h = -1 if header is None else (1 if header else 0)
    return LazyFrame._wrap(_gf.plan_scan_csv(_path(path), delimiter or "", h))


def scan_ipc(path: PathLike) -> LazyFrame:
    """A lazy Arrow IPC file or stream source (schema read now)."""
    return LazyFrame._wrap(_gf.plan_scan_ipc(_path(path)))


def scan_parquet(path: PathLike) -> LazyFrame:
    """A lazy Parquet source (footer read now): when the plan runs only the
    column chunks it uses are read, and row groups whose statistics rule
    out a pushed filter are skipped (``explain()`` shows them after a run)."""
    return LazyFrame._wrap(_gf.plan_scan_parquet(_path(path)))


def _patterns(paths: Union[PathLike, Sequence[PathLike]], what: str) -> List[str]:
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        return [_path(paths)]  # type: ignore[arg-type]
    out = [_path(p) for p in paths]  # type: ignore[union-attr]
    if not out:
        raise ValueError(f"{what}: give at least one path or pattern")
    return out


def _files_args(filename_column: Optional[str], hive: Union[bool, str, None], format: Optional[str]) -> Tuple[Any, int, int]:
    key = hive.lower() if isinstance(hive, str) else hive
    if key not in _HIVE:
        raise ValueError(f"hive must be None/'auto', True or False, got {hive!r}")
    fmt = format.lower() if isinstance(format, str) else format
    if fmt not in _FILE_FORMAT:
        raise ValueError(f"format must be None/'auto', 'csv' or 'ipc', got {format!r}")
    if filename_column is not None and not isinstance(filename_column, str):
        raise TypeError("filename_column must be a str or None")
    return filename_column, _HIVE[key], _FILE_FORMAT[fmt]


def scan_files(paths: Union[PathLike, Sequence[PathLike]], *, filename_column: Optional[str] = None,
               hive: Union[bool, str, None] = None, format: Optional[str] = None) -> LazyFrame:
    """A lazy source over many files read as one frame: paths, globs
    (``*``, ``?``, ``[...]``, ``**``) and directories, CSV/TSV and Arrow IPC
    (by extension unless ``format`` is "csv" or "ipc"). Columns are matched
    by name (missing ones are null, types widened); ``filename_column``
    adds each row's file path; ``hive`` (None = auto, True, False) adds the
    ``key=value`` directories as columns, and a filter on them skips whole
    files (partition pruning). Every file's schema is read now."""
    fc, h, f = _files_args(filename_column, hive, format)
    return LazyFrame._wrap(_gf.plan_scan_files(_patterns(paths, "scan_files"), fc, h, f))


def read_files(paths: Union[PathLike, Sequence[PathLike]], *, filename_column: Optional[str] = None,
               hive: Union[bool, str, None] = None, format: Optional[str] = None, threads: Optional[int] = None,
               timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> DataFrame:
    """scan_files(...).collect(): many files as one frame, files in path
    order (each pattern's matches sorted), each file's rows in order."""
    fc, h, f = _files_args(filename_column, hive, format)
    return DataFrame._wrap(_gf.read_files(_patterns(paths, "read_files"), fc, h, f,
                                          _opts(threads, timeout, memory_limit)))


def _columns_arg(columns: Union[str, Sequence[str], None], what: str) -> Optional[List[str]]:
    return None if columns is None else _names([columns], what)


def read_parquet(path: PathLike, *, columns: Union[str, Sequence[str], None] = None,
                 filter: Optional[ExprLike] = None, threads: Optional[int] = None,
                 timeout: Optional[float] = None, memory_limit: Optional[int] = None) -> DataFrame:
    """Reads a Parquet file (one batch per row group), decoded in parallel.
    ``columns``: the columns to read, in that order (only their chunks are
    read); a name not in the file raises InvalidArgumentError. ``filter``:
    a predicate; row groups whose statistics rule it out are not read, and
    the rows read are filtered (the columns it uses must be read). Nested
    columns and codecs this build lacks raise NotSupportedError."""
    pred = None if filter is None else _text(filter)
    return DataFrame._wrap(_gf.read_parquet(_path(path), _columns_arg(columns, "read_parquet"), pred,
                                            _opts(threads, timeout, memory_limit)))


def read_json(path: PathLike, *, columns: Union[str, Sequence[str], None] = None,
              threads: Optional[int] = None, timeout: Optional[float] = None,
              memory_limit: Optional[int] = None) -> DataFrame:
    """Reads a JSON array of objects, or NDJSON (told by the first byte:
    ``[`` is an array). Columns are the keys in order of first appearance;
    types are inferred from every value (docs/JSON.md); nested values raise
    NotSupportedError, malformed JSON ParseError with line and column."""
    return DataFrame._wrap(_gf.read_json(_path(path), 0, _columns_arg(columns, "read_json"),
                                         _opts(threads, timeout, memory_limit)))


def read_ndjson(path: PathLike, *, columns: Union[str, Sequence[str], None] = None,
                threads: Optional[int] = None, timeout: Optional[float] = None,
                memory_limit: Optional[int] = None) -> DataFrame:
    """Reads newline-delimited JSON (one object per line), as read_json."""
    return DataFrame._wrap(_gf.read_json(_path(path), 1, _columns_arg(columns, "read_ndjson"),
                                         _opts(threads, timeout, memory_limit)))


def _from_ipc_bytes(data: bytes) -> DataFrame:
    return DataFrame._wrap(_gf.read_ipc_bytes(bytes(data), (0, 0, 0)))


def read_csv(path: PathLike, *, delimiter: Optional[str] = None, header: Optional[bool] = None,
             threads: Optional[int] = None, timeout: Optional[float] = None,
             memory_limit: Optional[int] = None) -> DataFrame:
    """Reads a CSV file in parallel. The delimiter (comma, semicolon, tab,
    pipe) and the header are detected unless given."""
    h = -1 if header is None else (1 if header else 0)
    return DataFrame._wrap(_gf.read_csv(_path(path), delimiter or "", h, _opts(threads, timeout, memory_limit)))


def read_ipc(path: PathLike, *, threads: Optional[int] = None, timeout: Optional[float] = None,
             memory_limit: Optional[int] = None) -> DataFrame:
    """Reads an Arrow IPC file (Feather v2) or stream, memory-mapped."""
    return DataFrame._wrap(_gf.read_ipc(_path(path), _opts(threads, timeout, memory_limit)))


def from_arrow(obj: Any, *, validate_utf8: bool = False) -> DataFrame:
    """Imports any object with ``__arrow_c_stream__`` (a pyarrow Table or
    RecordBatchReader, a Polars DataFrame, a DuckDB relation...) without
    copying; the producer's memory stays alive as long as the frame uses it.
    The layout is always validated; ``validate_utf8`` also checks strings."""
    if isinstance(obj, DataFrame):
        return obj
    if not hasattr(obj, "__arrow_c_stream__"):
        raise TypeError(f"from_arrow: {type(obj).__name__} does not implement the Arrow PyCapsule "
                        "stream interface (__arrow_c_stream__)")
    capsule = obj.__arrow_c_stream__()
    return DataFrame._wrap(_gf.import_stream(capsule, bool(validate_utf8)))


def concat(frames: Sequence[DataFrame]) -> DataFrame:
    """Appends frames with equal schemas (batches kept)."""
    return DataFrame._wrap(_gf.concat([f._f for f in frames]))

"""Resource limits (issue 11; ``anchors/reliability.md`` §8 A05-A08, D01-D03, D17, E03 and
§9 G7): zip bombs, XML bombs, forged sizes in zip and PBF headers, YAML alias bombs and the
GTFS contents that expand (frequencies, long calendars) are refused or handled fast and in
bounded memory.

All cases run in one subprocess (:mod:`tests.resource_probe`), each in a forked child whose
peak resident set is reset before the read, so the growth counts every allocation (C and
C++ included), not only Python's. The bounds are generous for slow CI machines but far
below what the inputs would cost without the limits (see ``docs/notes/issue11_fuzzing.md``
for the figures before and after).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.resource_probe import CASES

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")

#: case -> (expected code, most seconds, most MB of resident-set growth)
BOUNDS: dict[str, tuple[str, float, float]] = {
    # zip (A05, A07, A08; G7: < 2 s, < 200 MB)
    "zip_10gb_member": ("zip_too_large", 2.0, 64),
    "zip_1gb_ratio": ("zip_too_large", 2.0, 64),
    "zip_10gb_understated": ("zip_corrupt", 2.0, 64),
    "zip_understated_64mb": ("zip_corrupt", 2.0, 200),  # read up to the declared 64 MiB, then the CRC fails
    "zip_many_members": ("zip_too_large", 2.0, 64),
    "zip_many_members_forged_count": ("zip_too_large", 2.0, 64),
    "zip_forged_compress_size": ("zip_corrupt", 2.0, 64),
    "zip_forged_10gb_declared": ("zip_too_large", 2.0, 64),
    # XML (D01-D03; G7: < 1 s, < 100 MB), nesting, tokens, decompression bombs (D17)
    "xml_billion_laughs": ("osm_xml_dtd_forbidden", 1.0, 64),
    "xml_quadratic_blowup": ("osm_xml_dtd_forbidden", 1.0, 64),
    "xml_external_entity": ("osm_xml_dtd_forbidden", 1.0, 64),
    "xml_deep_nesting": ("osm_xml_parse_error", 1.0, 64),
    "xml_huge_attribute": ("osm_xml_token_too_large", 1.0, 64),
    "xml_gz_whitespace_bomb": ("osm_xml_token_too_large", 1.0, 64),
    "xml_gz_element_bomb": ("decompressed_too_large", 15.0, 64),  # parses 64 MiB of elements to the cap
    "xml_bz2_bomb": ("decompressed_too_large", 15.0, 64),
    # PBF (E01, E03; G7: truncated 100 MB file < 5 s, no allocation from a forged size)
    "pbf_header_length_2gb": ("not_osm_pbf", 5.0, 64),
    "pbf_second_header_length_2gb": ("osm_pbf_corrupt", 5.0, 64),
    "pbf_datasize_2gb": ("osm_pbf_corrupt", 5.0, 64),
    "pbf_raw_size_2gb": ("osm_pbf_corrupt", 5.0, 64),
    "pbf_zlib_bomb": ("osm_pbf_corrupt", 5.0, 64),
    "pbf_truncated_100mb": ("osm_pbf_corrupt", 5.0, 64),
    # scenario YAML
    "yaml_alias_bomb": ("invalid_yaml", 2.0, 64),
    "yaml_deep_nesting": ("invalid_yaml", 2.0, 64),
    # GTFS content that expands: loads fast, or is refused before it expands
    "gtfs_calendar_1970_2199": ("loaded", 5.0, 200),
    "gtfs_dense_frequencies": ("planner_too_many_frequency_trips", 5.0, 200),
}


def test_every_case_has_bounds():
    assert set(BOUNDS) == set(CASES)


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("bombs")
    env = {**os.environ, "PLAN_PROBE_TIMEOUT": "120"}
    r = subprocess.run([sys.executable, "-m", "tests.resource_probe", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1200)
    results = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            results[d["case"]] = d
    assert results, r.stdout + r.stderr
    print("\n".join(f"{d['case']}: {d['code']} {d.get('seconds')} s +{d.get('rss_growth_mb')} MB"
                    for d in results.values()))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BOUNDS))
def test_rejected_fast_in_bounded_memory(measured, case):
    code, seconds, megabytes = BOUNDS[case]
    got = measured.get(case)
    assert got is not None, f"{case} did not report (crashed or killed)"
    assert got["code"] == code, got
    assert got["seconds"] < seconds, got
    assert got["rss_growth_mb"] < megabytes, got
    if code != "loaded":
        assert got["message"], got

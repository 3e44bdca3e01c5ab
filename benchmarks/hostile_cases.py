"""Counts, for each class of defect of issues 18 and 26, the cases tried and how each ends now.

Every case is a test that asserts its ending (a clean error naming the field or object, a
refusal that registers nothing, a cluster's own failure in the report, ...), so a case counts as
ending that way only when its test passes. The script runs those tests and prints one line per
class; a failing case is listed by name.

    .venv/bin/python benchmarks/hostile_cases.py

The real-cluster cases (a GKE stack deployed through the exec plugin, a 403 during the
verification) run in the e2e tier: `pytest -m "e2e and not kind" tests/e2e`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (class, how each case ends now, pytest selections)
CLASSES: list[tuple[str, str, list[str]]] = [
    (
        "1 exec-plugin credentials",
        "a real plugin's token reads the cluster (v1, v1beta1), is kept, fetched again on expiry "
        "and on a 401; a broken plugin or exec block is an error naming it",
        ["tests/test_exec_plugin.py"],
    ),
    (
        "2 a refusal changes nothing",
        "no custom resource registered, for each refusal kind, in the program and the component",
        [
            "tests/test_component.py::test_a_refused_step_registers_no_resource_at_all",
            "tests/test_program.py::test_a_refused_step_registers_nothing_at_all",
            "tests/test_preflight.py",
        ],
    ),
    (
        "3 permanent errors fail fast",
        "401/403 fail at once naming the permission; 429/5xx and no answer are polled through",
        ["tests/test_verify.py"],
    ),
    (
        "4 bounded cluster reads",
        "endless pages, huge or compressed answers, release bombs, slow servers, malformed "
        "objects, HTML, markup: a clean ClusterError (or bounded text), in bounded time/memory",
        ["tests/test_cluster_limits.py"],
    ),
    (
        "5 one exit-code table",
        "each ending has its own code, in --help and the README; JSON on errors; 130 on Ctrl-C",
        ["tests/test_exit_codes.py"],
    ),
    (
        "6 the fleet never loses a result",
        "the cluster's failure (counted), or a clean error before anything runs; report written",
        [
            "tests/test_fleet.py::test_an_automation_api_error_is_that_clusters_failure",
            "tests/test_fleet.py::test_an_unreadable_cluster_at_the_health_gate_is_unhealthy",
            "tests/test_fleet.py::test_resume_refuses_another_fleets_state",
            "tests/test_fleet.py::test_resume_runs_a_cluster_again_when_its_target_changed",
            "tests/test_fleet.py::test_a_bad_state_file_is_refused_quickly",
            "tests/test_fleet.py::test_an_unwritable_state_file_stops_before_anything_runs",
            "tests/test_fleet.py::test_a_relative_kubeconfig_path_is_relative_to_the_fleet_file",
            "tests/test_fleet_cli.py::test_fleet_up_piped_prints_only_lines_and_json_on_request",
            "tests/test_fleet_cli.py::test_fleet_up_with_an_unwritable_report_stops_before_anything_runs",
            "tests/test_fleet_cli.py::test_the_report_is_written_even_when_the_rollout_stops_on_an_error",
            "tests/test_fleet_cli.py::test_fleet_status_a_pending_release_is_never_healthy",
            "tests/test_fleet_cli.py::test_fleet_preflight_says_what_a_percent_budget_allows",
            "tests/test_fleet_cli.py::test_fleet_status_reads_each_cluster_and_the_state_file",
        ],
    ),
    (
        "7 secrets stay secret in the fleet",
        "no credential value in a fleet error; the stack input only on pulumi's stdin",
        [
            "tests/test_fleet.py::test_fleet_errors_never_echo_credentials",
            "tests/test_fleet_cli.py::test_the_stack_input_never_reaches_a_command_line",
        ],
    ),
    (
        "8 fleet files as strict as manifests",
        "the committed JSON Schema and the loader agree on every probe; what the schema cannot "
        "say (empty waves, a cluster named twice) the loader refuses by path",
        [
            "tests/test_fleet.py::test_the_schema_and_the_loader_agree",
            "tests/test_fleet.py::test_what_the_schema_cannot_say_the_loader_refuses",
            "tests/test_fleet.py::test_bad_fleet_files_name_every_problem",
        ],
    ),
    (
        "9 manifest leftovers",
        "booleans as numbers, YAML sets, impossible ports, YAML 1.1 keys, broken CRDs in a "
        "package, key files that are not files: an error naming the field, nothing cached",
        [
            "tests/test_spec.py::test_a_boolean_is_not_a_number",
            "tests/test_spec.py::test_numbers_still_work",
            "tests/test_stack_input.py::test_a_yaml_set_is_not_a_list",
            "tests/test_stack_input.py::test_a_yaml_1_1_boolean_key_is_named_as_such",
            "tests/test_spec.py::test_a_repository_url_with_no_possible_port_or_host_is_refused",
            "tests/test_spec.py::test_good_repository_urls_pass",
            "tests/test_credentials.py::test_the_gke_key_file_must_be_a_regular_file",
            "tests/test_chart_repository.py::test_a_package_whose_crds_do_not_parse_is_the_repositorys_and_not_cached",
        ],
    ),
    (
        "10 one copy of each rule",
        "image version, install order, KUBECONFIG, the Helm hint: one function each, agreeing",
        [
            "tests/test_images.py",
            "tests/test_diff.py::test_the_diff_shows_a_digest_as_the_verification_reads_it",
            "tests/test_render.py::test_render_and_diff_use_one_install_order",
            "tests/test_credentials.py::test_a_tilde_in_kubeconfig_means_the_same_everywhere",
            "tests/test_render.py::test_one_install_hint_for_the_helm_engine",
        ],
    ),
    (
        "11 only its own files",
        "a marker or pin naming a path, a link out of the folder, a sibling render's file, a "
        "bad marker or folder: refused (exit 2) or verified anew; nothing outside changes "
        "(property tests over random markers, pins and links)",
        [
            "tests/test_render.py::test_a_marker_never_leads_a_render_outside_its_folder",
            "tests/test_render.py::test_a_bad_folder_or_marker_is_a_clear_error_not_a_crash",
            "tests/test_render.py::test_a_bad_output_dir_exits_2_through_the_command",
            "tests/test_render.py::test_no_marker_and_no_link_lets_a_render_change_anything_outside",
            "tests/test_chart_repository.py::test_a_tampered_pin_never_names_a_file_to_read_or_remove",
            "tests/test_chart_repository.py::test_no_pin_and_no_link_lets_the_cache_change_anything_outside",
            "tests/test_chart_source.py::test_a_staging_folder_linked_out_of_the_project_is_refused",
            "tests/test_chart_repository.py::test_a_cache_folder_linked_out_of_the_cache_is_never_written_through",
            "tests/test_fleet.py::test_the_fleet_never_writes_through_a_link_out_of_its_folder",
        ],
    ),
    (
        "12 every read and process bounded",
        "FIFOs, devices and directories refused by kind before reading (pins, blobs, a local "
        "index, a bundled package, --state); a hung Pulumi CLI or plugin killed with its group",
        [
            "tests/test_chart_repository.py::test_a_pin_or_blob_that_is_not_a_regular_file_is_never_read",
            "tests/test_chart_repository.py::test_a_local_repository_index_that_is_a_fifo_is_refused_at_once",
            "tests/test_chart_repository.py::test_a_bundled_package_that_is_not_a_regular_file_is_refused",
            "tests/test_fleet_cli.py::test_a_state_file_that_is_not_a_file_stops_at_once",
            "tests/test_cli_flags.py::test_a_pulumi_cli_that_never_answers_is_stopped_at_the_deadline",
            "tests/test_exec_plugin.py::test_a_hung_plugins_children_go_with_it",
            "tests/test_fleet.py::test_a_marked_run_past_its_deadline_is_killed_with_all_it_started",
        ],
    ),
    (
        "13 one error path",
        "usage errors with -o json as a JSON document; the fleet plan alias handled; one rule "
        "for --chart-repo; --stack names checked; a Pulumi CLI without JSON unavailable",
        [
            "tests/test_exit_codes.py",
            "tests/test_cli_flags.py",
            "-k",
            "json or alias or repository_urls or stack_name or prints_no_json",
        ],
    ),
    (
        "14 cluster text is data",
        "escape sequences and newlines from the cluster shown escaped in preflight, status and "
        "fleet preflight, text and JSON",
        [
            "tests/test_preflight.py::test_cluster_text_is_data_never_a_terminals_instructions",
            "tests/test_fleet_cli.py::test_fleet_preflight_shows_cluster_text_as_data",
        ],
    ),
]


def run(selection: list[str], report: Path) -> tuple[int, list[str]]:
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
         *selection],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=900,
    )  # fmt: skip
    cases = ElementTree.parse(report).getroot().iter("testcase")
    total, failed = 0, []
    for case in cases:
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return total, failed


def main() -> None:
    grand = 0
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, ending, selection) in enumerate(CLASSES):
            total, failed = run(selection, Path(tmp) / f"{index}.xml")
            grand += total
            print(f"{name:38s} {total:4d} cases, {total - len(failed):4d} end as intended")
            print(f"{'':38s} ({ending})")
            for case in failed:
                print(f"{'':38s} NOT: {case}")
    print(f"{'total':38s} {grand:4d} cases")


if __name__ == "__main__":
    main()

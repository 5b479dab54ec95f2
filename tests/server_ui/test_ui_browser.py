"""A user's walk through the UI in real Chromium, on `satchel ui` over a 9-run sweep."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ui_harness import (  # noqa: F401 - fixtures
    STEPS,
    Watched,
    browser,
    sweep,
    sweep_rmse,
    ui_url,
    watched,
)

pytestmark = pytest.mark.slow


def final_rmse(name: str) -> float:
    alpha, l1 = (
        float(x) for x in re.findall(r"[\d.]+", name.replace("en-a", "").replace("-l", " "))
    )
    return sweep_rmse(alpha, l1, STEPS - 1)


def table_names(page: Any) -> list[str]:
    return page.locator("#runs-table tbody td.name a").all_inner_texts()


def test_user_filters_sorts_compares_and_inspects_a_sweep(
    ui_url: str,  # noqa: F811 - fixture
    sweep: dict[str, Any],  # noqa: F811 - fixture
    watched: Watched,  # noqa: F811 - fixture
) -> None:
    page = watched.page
    exp_id = sweep["experiment_id"]
    page.goto(ui_url)
    page.get_by_role("link", name="wine-elasticnet").click()
    page.wait_for_url(f"**/experiments/{exp_id}")
    # nested: the 9 runs sit under their parent
    assert len(table_names(page)) == 10
    assert page.locator("tr.depth-1").count() == 9
    watched.shot("01-experiment")

    # filter with the search DSL
    page.fill("#filter-box", "metrics.rmse < 0.8")
    page.press("#filter-box", "Enter")
    page.wait_for_url(re.compile(r".*filter=metrics.rmse.*"))
    expected = sorted(n for n in sweep["runs"] if final_rmse(n) < 0.8)
    assert sorted(table_names(page)) == expected and 3 <= len(expected) < 9

    # pick columns, then sort by rmse
    page.click("#column-picker summary")
    for col in ("metrics.rmse", "params.alpha", "params.l1_ratio"):
        page.check(f'#columns-form input[value="{col}"]')
    page.click("#apply-columns")
    page.wait_for_url(re.compile(r".*col=params.l1_ratio.*"))
    page.click('a.sort[data-column="metrics.rmse"]')
    page.wait_for_url(re.compile(r".*order=.*ASC.*"))
    names = table_names(page)
    assert names == sorted(expected, key=final_rmse)
    headers = page.locator("#runs-table thead th").all_inner_texts()
    assert any("params.alpha" in h for h in headers)
    watched.shot("02-filtered-sorted")

    # a bad filter is shown inline, pointing at the token
    page.fill("#filter-box", "metrics.rmse <> 0.8 and params.alpha === '1'")
    page.press("#filter-box", "Enter")
    page.wait_for_selector("#filter-error")
    assert page.locator(".error-token").inner_text().startswith("=")
    watched.shot("03-bad-filter")
    page.go_back()

    # select 3 runs and compare
    page.wait_for_selector("body[data-ready]")
    for box in page.locator(".run-check").all()[:3]:
        box.check()
    page.click("#compare-selected")
    page.wait_for_url("**/compare?runs=*")
    differing = page.locator("#compare-table tr.differs th").all_inner_texts()
    assert any("alpha" in t or "l1_ratio" in t for t in differing)
    page.wait_for_selector('#compare-plot[data-drawn="parallel"] .scatterlayer .trace')
    assert page.locator("#compare-plot .scatterlayer .trace").count() == 3
    page.wait_for_selector("#metric-chart[data-drawn]")
    watched.shot("04-compare")
    for kind in ("scatter", "contour", "box"):
        page.select_option("#plot-kind", kind)
        page.wait_for_selector(f'#compare-plot[data-drawn="{kind}"]')

    # open a run: its chart, an image and a CSV preview
    page.locator("#compare-table thead a").first.click()
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("#metric-chart[data-drawn] .scatterlayer .trace")
    assert int(page.get_attribute("#metric-chart", "data-points") or 0) == STEPS
    # zoom: the chart asks the server again for the visible steps only
    with page.expect_request(lambda r: "metric-history" in r.url and "lo=5" in r.url):
        page.evaluate("Plotly.relayout('metric-chart', {'xaxis.range': [5, 10]})")
    page.wait_for_selector("#metric-chart[data-drawn='2']")
    page.wait_for_selector(".metrics-table[data-ranges]")
    rmse_row = page.locator('.metrics-table tr[data-key="rmse"]')
    assert rmse_row.locator(".range-count").inner_text() == str(STEPS)
    page.click('.artifact-link[data-path="plots/plot.png"]')
    page.wait_for_function("() => document.querySelector('.preview-image')?.naturalWidth === 64")
    watched.shot("05-run-image")
    page.click('.artifact-link[data-path="predictions.csv"]')
    page.wait_for_selector(".csv-table")
    assert page.locator(".csv-table tbody tr").count() == 25
    assert page.locator(".csv-table thead th").all_inner_texts() == ["row", "predicted", "actual"]
    watched.shot("06-run-csv")

    # rename the experiment from the sidebar
    page.goto(f"{ui_url}experiments/{exp_id}")
    item = page.locator(f'li.exp[data-experiment-id="{exp_id}"]')
    item.hover()
    item.locator(".exp-rename").click()
    item.locator(".rename-form input").fill("wine-elasticnet-v2")
    item.locator(".rename-form button").click()
    page.wait_for_selector("h1 .exp-name:text('wine-elasticnet-v2')")
    assert sweep["client"].get_experiment(exp_id).name == "wine-elasticnet-v2"

    # move one run to another experiment
    moved = sweep["runs"]["en-a1.0-l0.9"]
    page.check(f'.run-check[value="{moved}"]')
    page.select_option("#move-target", sweep["other_id"])
    page.click("#move-selected")
    page.wait_for_function(f"() => !document.querySelector('.run-check[value=\"{moved}\"]')")
    assert sweep["client"].get_run(moved).info.experiment_id == sweep["other_id"]
    page.goto(f"{ui_url}experiments/{sweep['other_id']}")
    assert table_names(page) == ["en-a1.0-l0.9"]
    watched.shot("07-moved")

    assert not watched.dialogs and not watched.errors, (watched.dialogs, watched.errors)
    assert not watched.console_errors, watched.console_errors


def _chart_state(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => { const el = document.getElementById('metric-chart');
        return { names: el.data.map((t) => t.name), xTitle: el.layout.xaxis.title.text,
                 yType: el.layout.yaxis.type, points: Number(el.dataset.points) }; }"""
    )


def test_chart_settings_live_in_the_url_survive_a_reload_and_can_be_shared(
    ui_url: str,  # noqa: F811 - fixture
    sweep: dict[str, Any],  # noqa: F811 - fixture
    watched: Watched,  # noqa: F811 - fixture
    browser: Any,  # noqa: F811 - fixture
) -> None:
    page = watched.page
    run = sweep["runs"]["en-a0.5-l0.5"]
    page.goto(f"{ui_url}runs/{run}")
    page.wait_for_selector("#metric-chart[data-drawn]")
    page.check('.chart-metric[value="rmse"]')
    page.wait_for_selector("#metric-chart[data-drawn='2']")
    page.select_option("#chart-x", "relative")
    page.locator("#chart-smoothing").evaluate(
        "(el) => { el.value = '0.6'; el.dispatchEvent(new Event('input')); }"
    )
    page.check("#chart-log")
    page.wait_for_url(re.compile(r".*log=1.*"))
    url = page.url
    for part in ("metric=mae", "metric=rmse", "x=relative", "smoothing=0.6", "log=1"):
        assert part in url, url
    chosen = _chart_state(page)
    assert chosen["names"] == ["mae", "rmse"] and chosen["points"] == 2 * STEPS
    assert chosen["xTitle"] == "relative time (s)" and chosen["yType"] == "log"

    page.reload()
    page.wait_for_selector("#metric-chart[data-drawn]")
    assert _chart_state(page) == chosen
    assert page.input_value("#chart-smoothing") == "0.6" and page.is_checked("#chart-log")

    shared = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    shared.goto(url)
    shared.wait_for_selector("#metric-chart[data-drawn]")
    assert _chart_state(shared) == chosen
    shared.context.close()
    watched.shot("08-chart-settings")
    assert not watched.errors and not watched.console_errors, (
        watched.errors,
        watched.console_errors,
    )

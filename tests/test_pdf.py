"""python -m analysis pdf: the profile page printed by headless Chromium with the print stylesheet."""

from __future__ import annotations

import pytest

from analysis import browser, cli, pdf
from analysis.errors import InputError


def test_print_css_goes_at_the_end_of_the_head():
    page = "<html><head><title>x</title></HEAD><body>b</body></html>"
    out = pdf.with_print_css(page, "body{color:#000}")
    assert out.index('<style media="print">') > out.index("<title>") and out.index("</style>") < out.index("</HEAD>")
    assert pdf.with_print_css("<p>no head</p>", "a{}").startswith('<style media="print">')
    assert "@page" in pdf.PRINT_CSS.read_text(encoding="utf-8")


def test_a_missing_page_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no profile page for Tromsø"):
        pdf.print_profile("Tromsø", site=tmp_path, output=tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.browser
def test_prints_a_pdf_and_leaves_no_copy(tmp_path, capsys):
    if browser.find_chromium() is None:
        pytest.skip("Chromium is not installed")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "5501-tromso.html").write_text(
        '<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Tromsø</title></head>'
        '<body><header class="u4ssc-navbar">nav</header><h1>Tromsø</h1><p>Æ ø å</p></body></html>',
        encoding="utf-8")
    target = tmp_path / "out" / "tromso.pdf"
    assert cli.main(["pdf", "5501", "--site", str(tmp_path), "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "profiles").iterdir()) == ["5501-tromso.html"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["tromso.pdf"]
    assert str(target) in capsys.readouterr().out


def test_page_count_reads_the_page_tree_root():
    pdf_bytes = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                 b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >> endobj\n"
                 b"6 0 obj << /Count 2 /Type /Pages /Parent 2 0 R >> endobj\n%%EOF")
    assert pdf.page_count(pdf_bytes) == 3
    assert pdf.page_count(b"%PDF-1.4 nothing") == 0


def test_another_view_and_an_unknown_view(tmp_path):
    with pytest.raises(InputError, match="no council page for Tromsø"):
        pdf.print_profile("Tromsø", site=tmp_path, view="council")
    with pytest.raises(InputError, match="unknown view 'poster'"):
        pdf.print_profile("Tromsø", site=tmp_path, view="poster")

"""ape-vyper compiles a contract again only when its own file changed: after an edit to
a module it imports, ape's build is stale, and ``ape run verify`` would approve the stale
code it deployed. Deploy and verify first compare ape's build with the sources."""

from types import SimpleNamespace

import pytest

from deployment.build import REPO_ROOT, StaleBuild, compile_source, require_fresh_build


def project_with(runtime: dict) -> SimpleNamespace:
    return SimpleNamespace(
        **{
            name: SimpleNamespace(
                contract_type=SimpleNamespace(get_runtime_bytecode=lambda c=code: c)
            )
            for name, code in runtime.items()
        }
    )


def fresh(name: str) -> bytes:
    return bytes.fromhex(compile_source(REPO_ROOT / "contracts" / f"{name}.vy")["runtime"][2:])


def test_a_build_equal_to_the_sources_passes():
    require_fresh_build(project_with({"Governor": fresh("Governor")}), ("Governor",))


def test_a_stale_contract_is_named_with_the_remedy():
    stale = fresh("Governor")[:-1] + b"\x00"
    with pytest.raises(StaleBuild, match=r"ape's build of Governor .* `ape compile --force`"):
        require_fresh_build(project_with({"Governor": stale}), ("Governor",))


def test_a_source_edited_while_it_compiles_is_not_kept(tmp_path, monkeypatch):
    """The cache is keyed by the sources' hash before compiling; an edit landing during the
    compilation (a checkout under a running test) would store either version under the
    old hash, and verify would then vouch for code the sources no longer hold."""
    import shutil
    import uuid

    from deployment import build

    shutil.copytree(REPO_ROOT / "contracts", tmp_path / "contracts")
    source = tmp_path / "contracts" / "Governor.vy"
    source.write_text(source.read_text() + f"\n# {uuid.uuid4()}\n")  # a tree of its own
    before = build.CACHE / f"{build.OUTPUTS}-{build.sources_hash(tmp_path)}"
    real = build._compile

    def edited_meanwhile(path, root):
        out = real(path, root)
        source.write_text(source.read_text() + "\n# edited\n")
        return out

    monkeypatch.setattr(build, "_compile", edited_meanwhile)
    build.compile_source(source, tmp_path)
    assert not before.exists()
    monkeypatch.setattr(build, "_compile", real)
    build.compile_source(source, tmp_path)  # unedited since: kept
    after = build.CACHE / f"{build.OUTPUTS}-{build.sources_hash(tmp_path)}"
    assert [p.name for p in after.iterdir()] == ["contracts__Governor.vy.json"]
    shutil.rmtree(after)

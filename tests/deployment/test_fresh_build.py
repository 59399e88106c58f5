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

"""Module options the model leaves alone, kept by the reference host (PARAM-1, PARAM-3).

The guide's §5 writes `enable_ssm_rt_fw=0` and `enable_sip_timeout_interval_ms=0` into an
options file next to reset_enable, and reads every parameter back under
/sys/module/enflame/parameters/. The model decides on reset_enable, vgcu_num,
gcu_whitelist_str and irq_poll_interval (kmd.yaml); the other keys change nothing it
decides, so the host keeps them here: per options file what its lines say, and what the
loaded module took at its load. Their names and defaults are constants.yaml
`device.module_parameters`.

A key the module does not know is ignored at load with the kernel's message, as Linux
does for an unknown parameter (linux-facts: Modules).
"""
from __future__ import annotations

from ..shell.commands import GCU_CONF, TEST_CONF, VGCU_CONF

ALIASES = {"gcu_test.conf": TEST_CONF}


class ModuleOptions:
    def __init__(self, host):
        self.host = host
        self.defaults: dict = dict(host.spec.device.get("module_parameters", {}))
        self.files: dict = {GCU_CONF: {}, TEST_CONF: {}, VGCU_CONF: {}}
        self.loaded: dict = {}                          # what the loaded module took; {} while unloaded

    def write(self, parsed) -> None:
        """An accepted options line: its keys the model leaves alone land in its file."""
        path = ALIASES.get(parsed.file, parsed.file)
        if path not in self.files:
            return
        if not parsed.append:
            self.files[path] = {}
        self.files[path].update(dict(parsed.options))

    def lines(self, path: str) -> list:
        """The option lines of a file beyond the model's ones, as `options enflame "k=v"`."""
        return [f'options enflame "{k}={v}"' for k, v in self.files.get(ALIASES.get(path, path), {}).items()]

    def value(self, name: str) -> str:
        return self.loaded.get(name, self.defaults[name])

    def after(self, ga, before: tuple) -> list:
        """Follow an accepted action; returns kernel log lines of a load."""
        name = ga.decl.name
        if name == "copy_gcu_conf":                     # cp -f gcu.conf gcu_test.conf
            self.files[TEST_CONF] = dict(self.files[GCU_CONF])
        was = self.host.view(before).host.kmd == "loaded"
        now = self.host.view().host.kmd == "loaded"
        if was and not now:
            self.loaded = {}
        if now and (not was or name == "reboot"):      # a reboot loads the module afresh
            # PARAM-3: -C FILE applies once, gcu.conf at every load; vgcu_num's file always (kmd.yaml)
            conf = TEST_CONF if dict(ga.action.params).get("conf") == "tmp_conf" else GCU_CONF
            taken = {**self.files[VGCU_CONF], **self.files[conf]}
            self.loaded = {k: v for k, v in taken.items() if k in self.defaults}
            return [f"enflame: unknown parameter '{k}' ignored" for k in taken if k not in self.defaults]
        return []

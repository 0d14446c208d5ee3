"""The machine the models run on: CPU, RAM and GPU use, energy, what it is, its cores.

`ResourceSampler` feeds the machine panel and the per-process figures
(`engines.machine.resources`; GPUs through `engines.machine.gpus`: NVIDIA's NVML in
`engines.machine.nvml`, AMD SMI in `engines.machine.amd_gpus`); `host_info`
describes the machine in every result; `engines.machine.threads` shares the cores among
panes that run at once.
"""

from engines.machine.host import host_info
from engines.machine.resources import ResourceSampler

__all__ = ["ResourceSampler", "host_info"]

# WRONG (planted): a hot reset typed inside a VM that holds a VF. §9.3: a VM may only FLR
# its VF (RST-4).
# @config s60-sriov-2vf
sudo ./enflame-xxx.run --virt-host --vf-num 2
GcuSriovMgr --slot 0000:01:00.1 --bind
qemu-system-x86_64 -name guest -device vfio-pci,host=0000:01:00.1
[vm0] efsmi -r hot
# @expect refused

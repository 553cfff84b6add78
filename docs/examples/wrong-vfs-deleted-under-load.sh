# WRONG (planted): deleting the VFs while a workload runs on one. §7.8: VFs are never
# deleted while in use (SRIOV-6).
# @config s60-sriov-2vf
sudo ./enflame-xxx.run --virt-host --vf-num 2
./app /dev/gcu1 &
echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
# @expect refused EBUSY

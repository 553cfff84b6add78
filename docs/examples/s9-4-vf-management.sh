# Guide §9.4: VFs by sriov_numvfs and by GcuSriovMgr.
# @config s60-sriov-4vf
sudo ./enflame-xxx.run --virt-host --vf-num 4
cat /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
echo 0 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs
GcuSriovMgr --slot 01:00.0 --vf-num 4
GcuSriovMgr --slot 01:00.0 --check
GcuSriovMgr --slot 0000:01:00.1 --bind
GcuSriovMgr --slot 0000:01:00.1 --unbind
GcuSriovMgr --slot 01:00.0 --vf-num 0

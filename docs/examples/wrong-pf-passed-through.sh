# WRONG (planted): handing the PF of an SR-IOV host to vfio-pci for a VM. §7.8: in SR-IOV
# mode only VFs are passed through, never the PF (SRIOV-3).
# @config s60-sriov-2vf
sudo ./enflame-xxx.run --virt-host --vf-num 2
echo 0000:01:00.0 > /sys/bus/pci/drivers/vfio-pci/bind
# @expect refused EPERM

# WRONG (planted): rmmod while a VM still holds a VF. §7.8: first exit the VM, unbind
# from vfio, and only then rmmod the host KMD (UNLD-4).
# @config s60-sriov-2vf
sudo ./enflame-xxx.run --virt-host --vf-num 2
GcuSriovMgr --slot 0000:01:00.1 --bind
qemu-system-x86_64 -name guest -device vfio-pci,host=0000:01:00.1
sudo rmmod enflame
# @expect refused EBUSY

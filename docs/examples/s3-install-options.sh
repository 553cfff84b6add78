# Guide §3: the run package's install options, vgcu_num before installing, the virt package.
# @config t20-vgcu
echo 'options enflame "vgcu_num=4"' > /etc/modprobe.d/gcu_test.conf
sudo ./enflame-xxx.run --with-vgcu
# @expect accepted
cat /sys/module/enflame/parameters/vgcu_num
sudo ./enflame-xxx.run --uninstall
sudo ./enflame-xxx.run --mdev-host --with-vgcu
# @expect error
sudo ./enflame-xxx.run --no-auto-load --mdev-host
sudo ./enflame_virt-xxx.run
# @expect accepted

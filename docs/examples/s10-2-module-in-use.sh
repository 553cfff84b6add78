# Guide §10.2: enflame will not unload while enflame_peermem uses it.
# @config t20-asic
sudo ./enflame-xxx.run
sudo ./enflame_peer_mem-xxx.run
sudo modprobe enflame_peermem
lsmod | grep enflame
sudo rmmod enflame
# @expect refused EBUSY
sudo rmmod enflame_peermem
sudo rmmod enflame
# @expect accepted

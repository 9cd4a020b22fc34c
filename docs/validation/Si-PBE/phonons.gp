set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output "phonons.png"
set ylabel "frequency (THz)"
set grid
set xrange [-0.5:3.5]
set yrange [0:*]
set key top left
set title "Si diamond: phonon frequencies at Γ and X (2×2×2 supercell of the primitive cell)"
plot "phonons.dat" u ($1-0.1):3:xtic(2) w p pt 7 ps 1.6 lc rgb "#1f77b4" t "DFT (PBE)", "" u 1:4 w p pt 5 ps 1.6 lc rgb "#d62728" t "facet (Si-PBE)", "" u ($1+0.1):5 w p pt 9 ps 1.8 lc rgb "#000000" t "experiment"
